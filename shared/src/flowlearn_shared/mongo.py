"""MongoDB through PyMongo's async API (``AsyncMongoClient``)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

Document = dict[str, Any]


def make_client(uri: str, app_name: str) -> AsyncMongoClient[Document]:
    # tz_aware: every datetime read back is UTC-aware, like the ones written.
    return AsyncMongoClient(
        uri, tz_aware=True, appname=app_name, serverSelectionTimeoutMS=5000, retryWrites=True
    )


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await client.admin.command("ping")
    except Exception:
        return False
    return True
