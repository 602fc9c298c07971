"""Request/reply between the gateway and the services.

Every request carries the acting user as the gateway verified it; every reply is either a
result or an RFC 9457 problem, so the gateway can answer HTTP without knowing the domain.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Actor(BaseModel):
    """The verified caller. Services trust it because only the gateway may send requests."""

    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(default_factory=list)
    timezone: str = "UTC"
    name: str | None = Field(default=None, max_length=200, description="Display name claim")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


class Reply(BaseModel, Generic[T]):
    result: T | None = None
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class ServiceError(Exception):
    """A use case refused the request; carries what the caller should see."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors

    def to_problem(self) -> Problem:
        return Problem(
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors,
            type=f"https://flowlearn.dev/problems/{self.title.lower().replace(' ', '-')}",
        )


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class PreconditionFailed(ServiceError):
    status = 412
    title = "Precondition failed"


class InvalidInput(ServiceError):
    status = 422
    title = "Unprocessable content"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class HealthStatus(BaseModel):
    service: str
    nats: bool
    mongodb: bool


class Forbidden(ServiceError):
    status = 403
    title = "Forbidden"
