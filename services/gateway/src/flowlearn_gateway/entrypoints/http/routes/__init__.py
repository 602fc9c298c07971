"""Every router of the API, in the order the OpenAPI document lists them."""

from __future__ import annotations

from fastapi import APIRouter

from flowlearn_gateway.entrypoints.http.routes import (
    campaigns,
    collections,
    experiments,
    gatherings,
    health,
    hooks,
    journal,
    kudos,
    notifications,
    nudges,
    people,
    personal_data,
    portfolio,
    posts,
    questions,
    search,
)

ROUTERS: list[APIRouter] = [
    health.router,
    journal.router,
    portfolio.router,
    nudges.router,
    campaigns.router,
    notifications.router,
    people.router,
    personal_data.router,
    posts.router,
    questions.router,
    search.router,
    kudos.router,
    collections.router,
    gatherings.router,
    experiments.router,
    hooks.router,
]
