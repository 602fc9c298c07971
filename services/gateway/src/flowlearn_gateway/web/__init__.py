"""The learning hub: web pages served by the gateway that use its own HTTP API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from flowlearn_gateway.settings import GatewaySettings
from flowlearn_gateway.web import dev_tokens, pages


def install_hub(app: FastAPI, settings: GatewaySettings) -> None:
    """The pages, their static files, and the development sign-in route."""
    app.include_router(dev_tokens.router)
    app.include_router(pages.build_router(settings))
    app.mount(f"{pages.HUB}/static", StaticFiles(directory=pages.STATIC_DIR), name="hub-static")


__all__ = ["install_hub"]
