"""One running system for every end-to-end test module: nats-server, SecantusDB and the
four services as separate processes, started once per session and driven over HTTP.

Tests share it, so each uses its own user ids (and stops only what it restarts)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from flowlearn_cli import servers
from flowlearn_cli.stack import Stack, StackConfig


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    config = StackConfig(
        data_dir=tmp_path_factory.mktemp("stack"),
        nats_port=servers.free_port(),
        mongo_port=servers.free_port(),
        http_port=servers.free_port(),
        env="test",
        extra_env={"FLOWLEARN_GATEWAY_REQUEST_TIMEOUT_SECONDS": "3"},
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
