"""Metrics, one trace id across services, and a clean stop on SIGTERM, on the running
system (every service its own process)."""

from __future__ import annotations

import json
import secrets
import signal
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from flowlearn_cli import servers
from flowlearn_cli.stack import Stack
from flowlearn_cli.tokens import make_token
from metrics_support import scrape, value

pytestmark = pytest.mark.e2e

CREATED = "flow.journal.entry.created.v1"
CREATE_RPC = "flowrpc.journal.entry.create"
NUDGES_JOURNAL_CONSUMER = "nudges-journal-activity"


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, 'member')}"}


def wait_for(check: Callable[[], bool], within: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within:.0f}s")
        time.sleep(0.2)


def log_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    return lines


def write_entry(api: httpx.Client, user: str, **headers: str) -> httpx.Response:
    return api.post(
        "/v1/journal/entries",
        headers={**auth(user), **headers},
        json={"kind": "learned", "body": "Metrics and traces", "tags": ["ops"]},
    )


def test_every_service_serves_metrics_that_move(api: httpx.Client, stack: Stack) -> None:
    urls = {name: stack.config.metrics_url(name) for name in ("gateway", "journal", "nudges")}
    urls["sharing"] = stack.config.metrics_url("sharing")
    before = {name: scrape(url) for name, url in urls.items()}
    user = f"e2e-metrics-{uuid.uuid4().hex[:8]}"

    assert write_entry(api, user).status_code == 201
    assert api.get("/v1/feed", headers=auth(user)).status_code == 200

    gateway = scrape(urls["gateway"])
    posted = {"method": "POST", "route": "/v1/journal/entries", "status": "201"}
    assert (
        value(gateway, "flowlearn_http_requests_total", **posted)
        == value(before["gateway"], "flowlearn_http_requests_total", **posted) + 1
    )
    journal = scrape(urls["journal"])
    served = {"subject": CREATE_RPC, "status": "200"}
    assert (
        value(journal, "flowlearn_rpc_requests_total", **served)
        == value(before["journal"], "flowlearn_rpc_requests_total", **served) + 1
    )
    assert "flowlearn_outbox_pending_events" in journal
    assert "flowlearn_consumer_pending_messages" in journal
    sharing = scrape(urls["sharing"])
    assert value(sharing, "flowlearn_rpc_requests_total") > value(
        before["sharing"], "flowlearn_rpc_requests_total"
    )
    assert "flowlearn_consumer_pending_messages" in sharing

    # The nudges service consumes the entry's event.
    consumed = {"consumer": NUDGES_JOURNAL_CONSUMER, "subject": CREATED}
    was = value(before["nudges"], "flowlearn_events_consumed_total", **consumed)
    wait_for(
        lambda: value(scrape(urls["nudges"]), "flowlearn_events_consumed_total", **consumed) > was,
        what="nudges consumed the event",
    )
    nudges = scrape(urls["nudges"])
    for family in ("flowlearn_nudges_due", "flowlearn_nudges_overdue_seconds"):
        assert family in nudges
    lag = [labels for labels, _ in nudges["flowlearn_consumer_pending_messages"]]
    assert {"consumer": NUDGES_JOURNAL_CONSUMER} in lag


def test_one_trace_id_from_the_request_to_the_event_consumer(
    api: httpx.Client, stack: Stack
) -> None:
    trace_id = secrets.token_hex(16)
    response = write_entry(
        api, f"e2e-trace-{uuid.uuid4().hex[:8]}", traceparent=f"00-{trace_id}-{'ab' * 8}-01"
    )
    assert response.status_code == 201
    assert response.headers["x-trace-id"] == trace_id
    assert response.headers["traceparent"].split("-")[1] == trace_id

    logs = stack.config.data_dir / "logs"

    def traced(service: str, message: str) -> list[dict[str, Any]]:
        return [
            line
            for line in log_lines(logs / f"{service}.log")
            if line.get("trace_id") == trace_id and line.get("message") == message
        ]

    wait_for(lambda: bool(traced("journal", "request served")), what="journal log line")
    assert traced("journal", "request served")[0]["subject"] == CREATE_RPC

    def handled() -> set[tuple[str, str]]:
        # The same request also raises a profile event, which may be handled first.
        return {(line["consumer"], line["subject"]) for line in traced("nudges", "event handled")}

    wait_for(lambda: (NUDGES_JOURNAL_CONSUMER, CREATED) in handled(), what="nudges log line")
    assert handled() >= {(NUDGES_JOURNAL_CONSUMER, CREATED)}
    assert traced("gateway", "POST /v1/journal/entries 201")


def replica(stack: Stack, name: str, tag: str) -> servers.ManagedProcess:
    """A second process of ``name`` beside the stack's own, with its own log and ports."""
    proc = stack.service(name, metrics_port=servers.free_port())
    proc.log_path = stack.config.data_dir / "logs" / f"{name}-{tag}.log"
    if name == "gateway":
        proc.port = servers.free_port()
        proc.env["FLOWLEARN_GATEWAY_HTTP_PORT"] = str(proc.port)
        proc.start(timeout=60)
    else:
        proc.spawn()
        metrics = f"http://{stack.config.host}:{proc.env[f'FLOWLEARN_{name.upper()}_METRICS_PORT']}"

        def serving() -> bool:
            assert proc.running, proc.log_tail()
            try:
                return httpx.get(f"{metrics}/metrics", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        # The listener opens once the service has subscribed: from then on it takes work.
        wait_for(serving, within=60, what=f"{name} replica started")
    return proc


def stop_and_wait(proc: servers.ManagedProcess, within: float = 25.0) -> tuple[int, float]:
    assert proc.process is not None
    began = time.monotonic()
    proc.process.send_signal(signal.SIGTERM)
    code = proc.process.wait(timeout=within + 5)
    return code, time.monotonic() - began


def write_load(
    base_url: str, user: str, count: int, on_progress: Callable[[int], None]
) -> list[httpx.Response]:
    done = 0

    def one(i: int) -> httpx.Response:
        nonlocal done
        with httpx.Client(base_url=base_url, timeout=15) as client:
            response = write_entry(client, user)
        done += 1
        on_progress(done)
        return response

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def test_sigterm_mid_load_stops_journal_cleanly_and_keeps_every_write(
    api: httpx.Client, stack: Stack
) -> None:
    proc = replica(stack, "journal", "sigterm")
    user = f"e2e-sigterm-{uuid.uuid4().hex[:8]}"
    outcome: dict[str, tuple[int, float]] = {}
    stopper = ThreadPoolExecutor(max_workers=1)

    def progress(done: int) -> None:
        if done == 12 and not outcome:
            outcome["pending"] = (0, 0.0)
            stopper.submit(lambda: outcome.__setitem__("stop", stop_and_wait(proc)))

    responses = write_load(stack.config.gateway_url, user, 48, progress)
    stopper.shutdown(wait=True)
    code, took = outcome["stop"]
    assert code == 0, proc.log_tail()
    assert took < 25

    # The stopped replica had a share of the writes and finished them.
    lines = log_lines(proc.log_path)
    assert any(line.get("subject") == CREATE_RPC for line in lines)
    assert any(line.get("message") == "service stopped" for line in lines)
    # Every write was accepted (the other replica took over) and none was lost.
    assert [r.status_code for r in responses] == [201] * len(responses)
    ids = {r.json()["id"] for r in responses}
    listed = api.get("/v1/journal/entries", params={"limit": 100}, headers=auth(user)).json()
    assert {item["id"] for item in listed["items"]} == ids


def keep_writing(base_url: str, user: str) -> list[httpx.Response]:
    """Write until the server stops taking connections."""
    answered = []
    with httpx.Client(base_url=base_url, timeout=15) as client:
        while True:
            try:
                answered.append(write_entry(client, user))
            except httpx.TransportError:
                return answered


@pytest.mark.parametrize("name", ["gateway", "nudges", "sharing"])
def test_sigterm_stops_each_service_cleanly(stack: Stack, name: str) -> None:
    proc = replica(stack, name, "sigterm")
    if name != "gateway":
        code, took = stop_and_wait(proc)
        assert code == 0, proc.log_tail()
        assert took < 25
        return
    user = f"e2e-gw-stop-{uuid.uuid4().hex[:8]}"
    base_url = f"http://{stack.config.host}:{proc.port}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        writers = [pool.submit(keep_writing, base_url, user) for _ in range(2)]
        wait_for(
            lambda: (
                value(
                    scrape(f"{base_url}/metrics"),
                    "flowlearn_http_requests_total",
                    method="POST",
                    status="201",
                )
                >= 6
            ),
            what="writes under way",
        )
        code, took = stop_and_wait(proc)
        answered = [response for writer in writers for response in writer.result()]
    assert code == 0, proc.log_tail()
    assert took < 25
    # Whatever the gateway took before it stopped, it answered in full.
    assert len(answered) >= 6
    assert {response.status_code for response in answered} == {201}
