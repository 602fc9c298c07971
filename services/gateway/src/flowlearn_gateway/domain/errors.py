"""Failures the adapters report and the HTTP layer turns into problem responses."""

from __future__ import annotations

from flowlearn_shared.rpc import Problem


class GatewayError(Exception):
    """Base for failures the gateway expects and maps to an HTTP status."""


class ServiceUnavailable(GatewayError):
    """A dependency did not answer (no responders, timeout, NATS down, JWKS unreachable)."""

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency}: {reason}")
        self.dependency = dependency
        self.reason = reason


class BadServiceReply(GatewayError):
    """A service answered with something that is not a valid reply."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} sent an invalid reply")
        self.service = service


class ServiceProblem(GatewayError):
    """A service refused the request; its problem goes to the client as it is."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.title)
        self.problem = problem


class AuthenticationFailed(GatewayError):
    """No usable bearer token. ``detail`` is safe to show to the client."""

    def __init__(self, detail: str, *, token_present: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.token_present = token_present
