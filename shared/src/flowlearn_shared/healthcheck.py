"""``python -m flowlearn_shared.healthcheck SERVICE``: exit 0 when the service answers its
health request and reaches its database (for container health checks)."""

from __future__ import annotations

import asyncio
import sys

import nats

from flowlearn_shared.rpc import HealthStatus, Reply
from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.subjects import health_subject


async def check(service: str) -> bool:
    settings = ServiceSettings()
    client = await nats.connect(settings.nats_url, connect_timeout=2, max_reconnect_attempts=0)
    try:
        msg = await client.request(health_subject(service), b"{}", timeout=2)
        reply = Reply[HealthStatus].model_validate_json(msg.data)
        return bool(reply.result and reply.result.mongodb)
    finally:
        await client.close()


def main() -> None:
    service = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        ok = asyncio.run(check(service))
    except Exception as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
