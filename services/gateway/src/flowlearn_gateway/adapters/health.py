"""Asks every service whether it is ready, all at once and briefly."""

from __future__ import annotations

import asyncio
import logging

from flowlearn_shared.rpc import HealthStatus
from flowlearn_shared.subjects import health_subject

from flowlearn_gateway.adapters.rpc import RpcClient, nats_connected
from flowlearn_gateway.domain.errors import GatewayError

log = logging.getLogger("flowlearn.gateway.health")

SERVICES = ("journal", "nudges", "sharing")


class HealthClient:
    def __init__(self, rpc: RpcClient, timeout: float, services: tuple[str, ...] = SERVICES):
        self.rpc = rpc
        self.timeout = timeout
        self.services = services

    def nats_connected(self) -> bool:
        return nats_connected(self.rpc.broker)

    async def check(self, service: str) -> HealthStatus:
        try:
            return await self.rpc.request(
                health_subject(service), {}, HealthStatus, wait_seconds=self.timeout
            )
        except GatewayError as exc:
            log.warning("health check of %s failed: %s", service, exc)
            return HealthStatus(service=service, nats=False, mongodb=False)

    async def check_all(self) -> dict[str, HealthStatus]:
        if not self.nats_connected():
            return {s: HealthStatus(service=s, nats=False, mongodb=False) for s in self.services}
        results = await asyncio.gather(*(self.check(s) for s in self.services))
        return dict(zip(self.services, results, strict=True))
