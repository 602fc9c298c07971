"""The FastAPI application: routes, problem handlers, middleware and the NATS lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.nats import NatsBroker
from flowlearn_shared.observability.tracing import configure_tracing

from flowlearn_gateway import __version__
from flowlearn_gateway.bootstrap import build_container, running
from flowlearn_gateway.entrypoints.http.middleware import AccessLogMiddleware, BodyLimitMiddleware
from flowlearn_gateway.entrypoints.http.observability import (
    ObservabilityMiddleware,
    install_metrics_route,
)
from flowlearn_gateway.entrypoints.http.openapi import install_problem_schema
from flowlearn_gateway.entrypoints.http.problems import install_problem_handlers
from flowlearn_gateway.entrypoints.http.rate_limit import Limits, RateLimitMiddleware
from flowlearn_gateway.entrypoints.http.routes import ROUTERS
from flowlearn_gateway.settings import GatewaySettings
from flowlearn_gateway.web import install_hub

TAGS = [
    {"name": "journal", "description": "A private work journal, readable by its author only."},
    {
        "name": "nudges",
        "description": "Well-timed prompts: my preferences, my inbox, my responses; campaigns.",
    },
    {
        "name": "notifications",
        "description": "My new nudges, live, as Server-Sent Events.",
    },
    {"name": "people", "description": "My profile and my teams."},
    {"name": "communities", "description": "Communities of practice: join, leave, their feed."},
    {
        "name": "posts",
        "description": "Tips, lessons, gems and reflections shared with a chosen audience.",
    },
    {
        "name": "questions",
        "description": "Ask colleagues, answer, vote, accept; experts are asked to help.",
    },
    {"name": "search", "description": "Posts, questions and collections the caller may see."},
    {"name": "kudos", "description": "Spotting strengths: kudos to a colleague, private or team."},
    {
        "name": "collections",
        "description": "Curated, ordered links and posts; enroll for one item every few days.",
    },
    {"name": "gatherings", "description": "Lunch & learns and book clubs: RSVP, waitlist."},
    {
        "name": "experiments",
        "description": "Three Ps experiments: pitch, prototype, pilot, done or stopped.",
    },
    {
        "name": "hooks",
        "description": "Signed events from outside tools (CI, incidents) that can set off nudges.",
    },
    {"name": "health", "description": "Probes for orchestrators."},
    {"name": "dev", "description": "Development sign-in for the learning hub (dev and test)."},
]


def create_app(settings: GatewaySettings, broker: NatsBroker | None = None) -> FastAPI:
    """Build the app. Nothing connects until the ASGI lifespan starts.

    ``broker``: an already configured broker (tests); its owner starts and stops it.
    """
    configure_tracing("gateway")
    container = build_container(settings, broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(container):
            yield

    app = FastAPI(
        title="Flowlearn API",
        version=__version__,
        summary="Learning in the flow of work: journal, nudges and sharing.",
        openapi_tags=TAGS,
        lifespan=lifespan,
        # The request span, trace headers and Prometheus metrics are ObservabilityMiddleware's;
        # FastAPI's own telemetry would add a second request span and one per dependency,
        # endpoint and serialisation step on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.container = container
    install_problem_handlers(app, retry_after=settings.retry_after_seconds)
    # Added last = outermost: the access log also sees the 413s.
    if settings.rate_limiting:
        # Inside the body limit: a request refused for its size is not counted.
        app.add_middleware(
            RateLimitMiddleware,
            counters=container.rate_counters,
            tokens=container.tokens,
            limits=Limits(
                per_user=settings.rate_limit_per_user,
                per_ip=settings.rate_limit_per_ip,
                window_seconds=settings.rate_limit_window_seconds,
            ),
        )
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware)
    # Outermost: the span covers the access log line, and every response is counted.
    app.add_middleware(ObservabilityMiddleware)
    install_metrics_route(app)
    for router in ROUTERS:
        app.include_router(router)
    # The learning hub's pages and the development sign-in.
    install_hub(app, settings)
    install_problem_schema(app)
    return app
