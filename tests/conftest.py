"""Real servers for the whole test session.

By default nats-server and SecantusDB start as child processes on free ports. Set
``FLOWLEARN_NATS_URL`` / ``FLOWLEARN_MONGODB_URI`` to use servers you already run, or
``FLOWLEARN_TEST_DOCKER=1`` to use testcontainers (nats, mongo:8) where a Docker engine answers.

The end-to-end and browser tests share one running system (``stack``): nats-server,
SecantusDB and the four services as separate processes, started once per session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from flowlearn_cli import servers
from flowlearn_cli.stack import Stack, StackConfig
from identity_provider import IdentityProvider
from pymongo import AsyncMongoClient


def pytest_configure(config: pytest.Config) -> None:
    # Tests share one stream; a consumer a test creates must not first replay every event
    # earlier tests published. (Services in production replay history by default.)
    os.environ.setdefault("FLOWLEARN_NEW_CONSUMERS_START_AT", "new")


@dataclass
class NatsHandle:
    url: str
    process: servers.ManagedProcess | None  # None when the server is not ours to stop


def _docker_wanted() -> bool:
    if os.environ.get("FLOWLEARN_TEST_DOCKER") != "1":
        return False
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:  # any failure means: no engine to use
        raise pytest.UsageError(
            f"FLOWLEARN_TEST_DOCKER=1 but no Docker engine answers: {exc}"
        ) from exc
    return True


@pytest.fixture(scope="session")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def nats_handle(server_dir: Path) -> Iterator[NatsHandle]:
    if url := os.environ.get("FLOWLEARN_NATS_URL"):
        yield NatsHandle(url, None)
        return
    if _docker_wanted():
        from testcontainers.community.nats import NatsContainer

        with NatsContainer("nats:2.11", jetstream=True) as container:
            yield NatsHandle(container.nats_uri(), None)
        return
    port = servers.free_port()
    proc = servers.nats_server(server_dir / "nats", port).start()
    try:
        yield NatsHandle(servers.nats_url("127.0.0.1", port), proc)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def nats_url(nats_handle: NatsHandle) -> str:
    return nats_handle.url


@pytest.fixture(scope="session")
def mongodb_uri(server_dir: Path) -> Iterator[str]:
    if uri := os.environ.get("FLOWLEARN_MONGODB_URI"):
        yield uri
        return
    if _docker_wanted():
        yield from _mongo_replica_set_container()
        return
    port = servers.free_port()
    proc = servers.mongo_server(server_dir / "mongo", port).start()
    try:
        yield servers.mongodb_uri("127.0.0.1", port)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
async def mongo_client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, object]]]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
def unique() -> str:
    """A short unique token for database names, subjects and consumer names of one test."""
    return uuid.uuid4().hex[:10]


def _mongo_replica_set_container() -> Iterator[str]:
    """mongo:8 as a one-node replica set: transactions and change streams need one."""
    import time

    from pymongo import MongoClient
    from testcontainers.core.container import DockerContainer

    container = DockerContainer("mongo:8").with_command("--replSet rs0 --bind_ip_all")
    container.with_exposed_ports(27017)
    with container:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(27017))
        uri = f"mongodb://{host}:{port}/?directConnection=true"
        deadline = time.monotonic() + 60
        while True:
            try:
                with MongoClient(uri, serverSelectionTimeoutMS=2000) as client:
                    client.admin.command(
                        "replSetInitiate",
                        {"_id": "rs0", "members": [{"_id": 0, "host": "localhost:27017"}]},
                    )
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield uri


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    """An OpenID provider on 127.0.0.1 that the stack's gateway trusts (its JWKS) and the
    learning hub signs in with, as it would with the organisation's provider."""
    provider = IdentityProvider()
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, identity_provider: IdentityProvider
) -> Iterator[Stack]:
    """The whole system, driven over HTTP. Tests share it, so each uses its own user ids
    (and stops only what it restarts); the browser tests use the seeded demo people."""
    config = StackConfig(
        data_dir=tmp_path_factory.mktemp("stack"),
        nats_port=servers.free_port(),
        mongo_port=servers.free_port(),
        http_port=servers.free_port(),
        metrics_ports={name: servers.free_port() for name in ("journal", "nudges", "sharing")},
        env="test",
        extra_env={
            "FLOWLEARN_GATEWAY_REQUEST_TIMEOUT_SECONDS": "3",
            "FLOWLEARN_GATEWAY_OIDC_ISSUER": identity_provider.issuer,
            "FLOWLEARN_GATEWAY_OIDC_CLIENT_ID": identity_provider.client_id,
            "FLOWLEARN_GATEWAY_OIDC_JWKS_URL": f"{identity_provider.issuer}/jwks.json",
            # The work-event hook's "incident" source, for the end-to-end nudges tests.
            "FLOWLEARN_GATEWAY_HOOK_SECRETS": '{"incident": "e2e-incident-hook-secret-0123456789"}',
        },
    )
    running = Stack(config)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as client:
        yield client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: they are the slowest, and they change the demo organisation
    that the end-to-end seed test expects to find freshly seeded on the shared stack."""
    browser = [item for item in items if "browser" in Path(str(item.path)).parts]
    if browser:
        moved = set(browser)
        items[:] = [item for item in items if item not in moved] + browser
