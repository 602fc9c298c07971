"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.responses import Response

from flowlearn_gateway.entrypoints.http.deps import AppContainer, Health
from flowlearn_gateway.entrypoints.http.openapi import problems
from flowlearn_gateway.entrypoints.http.problems import problem_response

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class ServiceReadiness(BaseModel):
    nats: bool
    mongodb: bool


class Readiness(BaseModel):
    nats: bool
    services: dict[str, ServiceReadiness]


@router.get("/healthz", response_model=Liveness, status_code=200, summary="Liveness")
async def healthz() -> Liveness:
    """The process is up. Touches nothing else, so a slow dependency never restarts it."""
    return Liveness()


@router.get(
    "/readyz",
    response_model=Readiness,
    status_code=200,
    summary="Readiness",
    responses=problems(503),
)
async def readyz(health: Health, app: AppContainer) -> Response:
    """Ready when NATS is connected and every service reaches its database."""
    statuses = await health.check_all()
    report = Readiness(
        nats=health.nats_connected(),
        services={
            name: ServiceReadiness(nats=s.nats, mongodb=s.mongodb) for name, s in statuses.items()
        },
    )
    if report.nats and all(s.mongodb for s in report.services.values()):
        return JSONResponse(report.model_dump())
    not_ready = sorted(n for n, s in report.services.items() if not s.mongodb)
    detail = "NATS is not connected." if not report.nats else f"Not ready: {', '.join(not_ready)}."
    return problem_response(
        503,
        title="Service unavailable",
        detail=detail,
        headers={"Retry-After": str(app.settings.retry_after_seconds)},
        extra=report.model_dump(),
    )
