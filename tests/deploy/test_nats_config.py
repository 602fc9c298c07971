"""deploy/nats read as files: nats.conf users and permissions, streams.json definitions."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from deploy_support import (
    DAY_NS,
    DB_SERVICES,
    NATS_USERS,
    NS_PER_SECOND,
    SERVICES,
    STREAMS_FILE,
    allowed,
    nats_conf,
    nats_users,
    permission,
    subject_matches,
)
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    DEAD_LETTER_STREAM_SUBJECTS,
    EVENTS_STREAM,
    EVENTS_STREAM_SUBJECTS,
    WORK_EVENTS,
    EventSubject,
    RpcSubject,
    health_subject,
)


def test_nats_conf_enables_jetstream_with_limits() -> None:
    conf = nats_conf()
    jetstream = conf["jetstream"]
    assert jetstream["store_dir"].startswith("/")
    assert jetstream["max_memory_store"]
    assert jetstream["max_file_store"]
    assert conf["accounts"]["FLOWLEARN"]["jetstream"] == "enabled"
    assert "no_auth_user" not in conf
    assert "authorization" not in conf


def test_nats_conf_has_one_user_per_service_and_admin_with_env_passwords() -> None:
    users = nats_users()
    assert set(users) == set(NATS_USERS)
    for name, user in users.items():
        assert user["password"] == f"$NATS_{name.upper()}_PASSWORD", name
    assert "permissions" not in users["admin"]


def test_nats_gateway_may_only_send_requests_and_work_events() -> None:
    publish = permission("gateway", "publish")
    assert publish[:2] == ["flowrpc.>", WORK_EVENTS]
    # Beyond those, only its own rate-limit counters (a KV bucket) and nothing else of JetStream.
    assert all("flowlearn_rate_limits" in p for p in publish[2:])
    assert not allowed(publish, "$JS.API.STREAM.DELETE.KV_flowlearn_rate_limits")
    assert not allowed(publish, "$JS.API.STREAM.INFO.FLOW_EVENTS")
    assert permission("gateway", "subscribe") == ["_INBOX.>", EventSubject.NUDGE_DELIVERED]
    for subject in RpcSubject:
        assert allowed(permission("gateway", "publish"), subject)
    # Inbound work events only: never another service's events.
    assert allowed(permission("gateway", "publish"), "flow.work.incident.closed.v1")
    for event in EventSubject:
        assert not allowed(permission("gateway", "publish"), event)


@pytest.mark.parametrize("name", DB_SERVICES)
def test_nats_service_permissions_are_limited_to_its_subjects(name: str) -> None:
    publish = permission(name, "publish")
    subscribe = permission(name, "subscribe")
    assert set(subscribe) == {f"flowrpc.{name}.>", "_INBOX.>"}
    assert nats_users()[name]["permissions"]["allow_responses"] == "true"

    assert allowed(publish, f"flow.{name}.anything.happened.v1")
    assert allowed(publish, f"flowdlq.{name}-consumer")
    assert allowed(publish, health_subject(name))
    for other in SERVICES:
        if other != name:
            assert not allowed(publish, f"flow.{other}.anything.happened.v1")
            assert not allowed(publish, health_subject(other))
            assert not allowed(subscribe, f"flowrpc.{other}.x")
    # Each service publishes its own domain's events; the people directory (profiles,
    # memberships, erasure requests) lives in the sharing service.
    domains = (f"flow.{name}.", *(["flow.people."] if name == "sharing" else []))
    for event in EventSubject:
        assert allowed(publish, event) == event.startswith(domains), event
    for request in RpcSubject:
        # Only the gateway sends requests: services trust the actor a request carries.
        assert not allowed(publish, request)
        assert allowed(subscribe, request) == request.startswith(f"flowrpc.{name}.")

    # JetStream: the consumer and stream calls a service makes, and nothing destructive.
    for needed in (
        f"$JS.API.STREAM.INFO.{EVENTS_STREAM}",
        f"$JS.API.STREAM.CREATE.{DEAD_LETTER_STREAM}",
        f"$JS.API.CONSUMER.INFO.{EVENTS_STREAM}.nudges-journal-activity",
        f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.nudges-journal-activity.flow.journal.entry.*.v1",
        f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.nudges-journal-activity",
        f"$JS.ACK.{EVENTS_STREAM}.nudges-journal-activity.1.2.3.4.5",
    ):
        assert allowed(publish, needed), needed
    for forbidden in (
        f"$JS.API.STREAM.DELETE.{EVENTS_STREAM}",
        f"$JS.API.STREAM.PURGE.{EVENTS_STREAM}",
        f"$JS.API.CONSUMER.DELETE.{EVENTS_STREAM}.nudges-journal-activity",
        f"$JS.API.STREAM.MSG.GET.{DEAD_LETTER_STREAM}",
        "$JS.API.STREAM.CREATE.OTHER",
        "anything.else",
    ):
        assert not allowed(publish, forbidden), forbidden


def test_subject_matcher_follows_nats_wildcards() -> None:
    assert subject_matches("flow.>", "flow.journal.entry.created.v1")
    assert not subject_matches("flow.>", "flow")
    assert subject_matches("flow.journal.entry.*.v1", "flow.journal.entry.deleted.v1")
    assert not subject_matches("flow.journal.entry.*.v1", "flow.journal.entry.deleted.v2")
    assert not subject_matches("flowrpc.journal.health", "flowrpc.journal.health.x")


@functools.cache
def stream_definitions() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STREAMS_FILE.read_text(encoding="utf-8"))
    return data


def stream(name: str) -> dict[str, Any]:
    return next(s for s in stream_definitions()["streams"] if s["name"] == name)


def test_streams_match_the_shared_subjects() -> None:
    names = {s["name"] for s in stream_definitions()["streams"]}
    assert names == {EVENTS_STREAM, DEAD_LETTER_STREAM}
    assert stream(EVENTS_STREAM)["subjects"] == EVENTS_STREAM_SUBJECTS
    assert stream(DEAD_LETTER_STREAM)["subjects"] == DEAD_LETTER_STREAM_SUBJECTS
    for subject in EventSubject:
        assert allowed(stream(EVENTS_STREAM)["subjects"], subject)


def test_streams_keep_events_30_days_and_dead_letters_90() -> None:
    events, dead = stream(EVENTS_STREAM), stream(DEAD_LETTER_STREAM)
    assert events["max_age"] == 30 * DAY_NS
    assert dead["max_age"] == 90 * DAY_NS
    for definition in (events, dead):
        assert definition["storage"] == "file"
        assert definition["retention"] == "limits"
        assert definition["duplicate_window"] == 120 * NS_PER_SECOND
        assert definition["num_replicas"] == 1


def test_streams_match_what_the_services_create() -> None:
    from flowlearn_shared.settings import ServiceSettings
    from flowlearn_shared.streams import stream_configs

    settings = ServiceSettings.model_construct()  # the defaults, whatever this shell sets
    for config in stream_configs(settings):
        created = config.as_dict()
        defined = stream(str(config.name))
        for key in ("subjects", "retention", "storage", "max_age", "duplicate_window", "discard"):
            if key in created:
                assert defined[key] == created[key], f"{config.name}.{key}"


def test_nudges_consumer_matches_the_service() -> None:
    from flowlearn_nudges.entrypoints.messaging import JOURNAL_ENTRY_EVENTS
    from flowlearn_nudges.settings import NudgesSettings
    from flowlearn_shared.consumer import ACK_WAIT_SECONDS

    consumers = {c["config"]["durable_name"]: c for c in stream_definitions()["consumers"]}
    durable = NudgesSettings.model_fields["journal_consumer"].default
    assert durable == "nudges-journal-activity"
    consumer = consumers[durable]
    config = consumer["config"]
    assert consumer["stream"] == EVENTS_STREAM
    assert config["name"] == durable
    assert config["filter_subject"] == JOURNAL_ENTRY_EVENTS == "flow.journal.entry.*.v1"
    assert allowed(stream(EVENTS_STREAM)["subjects"], config["filter_subject"].replace("*", "x"))
    assert config["ack_policy"] == "explicit"
    assert config["deliver_policy"] == "all"
    assert config["ack_wait"] == int(ACK_WAIT_SECONDS * NS_PER_SECOND)
    # The service counts deliveries and dead-letters; the server must never give up first.
    assert config["max_deliver"] == -1
    for subject in EventSubject:
        if subject.startswith("flow.journal.entry."):
            assert subject_matches(config["filter_subject"], subject)


def registered_consumers(service: str) -> dict[str, str]:
    """Durable name -> filter subject of every event consumer ``service`` registers,
    read from its broker as built at start-up (nothing connects)."""
    import importlib

    bootstrap = importlib.import_module(f"flowlearn_{service}.bootstrap")
    settings_module = importlib.import_module(f"flowlearn_{service}.settings")
    settings_class = getattr(settings_module, f"{service.capitalize()}Settings")
    broker = bootstrap.bootstrap(settings_class.model_construct()).broker
    return {
        str(sub.config.durable_name): str(sub.subject.broker_address)
        for sub in broker.subscribers
        if getattr(getattr(sub, "config", None), "durable_name", None)
    }


def test_streams_json_defines_every_consumer_the_services_use() -> None:
    """An operator who applies streams.json gets every durable consumer, as the services
    create it (a service also creates one that is missing, with the same settings)."""
    from flowlearn_shared.consumer import ACK_WAIT_SECONDS

    defined = {c["config"]["durable_name"]: c for c in stream_definitions()["consumers"]}
    used: dict[str, str] = {}
    for service in DB_SERVICES:
        consumers = registered_consumers(service)
        assert consumers, f"{service} registers no consumer"
        assert all(name.startswith(f"{service}-") for name in consumers), consumers
        used |= consumers
    assert set(defined) == set(used)
    for name, subject in used.items():
        consumer = defined[name]
        config = consumer["config"]
        assert consumer["stream"] == EVENTS_STREAM
        assert config["name"] == name
        assert config["filter_subject"] == subject, name
        assert config["description"], name
        assert config["ack_policy"] == "explicit"
        assert config["deliver_policy"] == "all"
        assert config["ack_wait"] == int(ACK_WAIT_SECONDS * NS_PER_SECOND)
        assert config["max_deliver"] == -1
