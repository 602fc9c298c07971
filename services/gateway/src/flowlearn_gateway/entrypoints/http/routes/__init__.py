"""Every router of the API, in the order the OpenAPI document lists them."""

from __future__ import annotations

from fastapi import APIRouter

from flowlearn_gateway.entrypoints.http.routes import (
    health,
    journal,
    people,
    posts,
    questions,
    search,
)

ROUTERS: list[APIRouter] = [
    health.router,
    journal.router,
    people.router,
    posts.router,
    questions.router,
    search.router,
]
