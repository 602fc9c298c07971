"""Every router of the API, in the order the OpenAPI document lists them."""

from __future__ import annotations

from fastapi import APIRouter

from flowlearn_gateway.entrypoints.http.routes import (
    collections,
    experiments,
    gatherings,
    health,
    journal,
    kudos,
    nudges,
    people,
    posts,
    questions,
    search,
)

ROUTERS: list[APIRouter] = [
    health.router,
    journal.router,
    nudges.router,
    people.router,
    posts.router,
    questions.router,
    search.router,
    kudos.router,
    collections.router,
    gatherings.router,
    experiments.router,
]
