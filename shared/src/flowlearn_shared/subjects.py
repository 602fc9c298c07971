"""Every NATS subject and stream name Flowlearn uses, in one place.

- Events (facts, past tense, JetStream): ``flow.<domain>.<aggregate>.<event>.v<N>``
- Requests (core NATS request/reply, gateway -> service): ``flowrpc.<service>.<operation>``
- Dead letters (JetStream): ``flowdlq.<consumer>`` with the original subject in a header
"""

from __future__ import annotations

from enum import StrEnum

EVENTS_STREAM = "FLOW_EVENTS"
EVENTS_STREAM_SUBJECTS = ["flow.>"]
DEAD_LETTER_STREAM = "FLOW_DLQ"
DEAD_LETTER_STREAM_SUBJECTS = ["flowdlq.>"]


class EventSubject(StrEnum):
    """Versioned event subjects. The value is both the NATS subject and the CloudEvents type."""

    JOURNAL_ENTRY_CREATED = "flow.journal.entry.created.v1"
    JOURNAL_ENTRY_UPDATED = "flow.journal.entry.updated.v1"
    JOURNAL_ENTRY_DELETED = "flow.journal.entry.deleted.v1"


class RpcSubject(StrEnum):
    """Request/reply subjects served by one queue group per service."""

    JOURNAL_CREATE_ENTRY = "flowrpc.journal.entry.create"
    JOURNAL_GET_ENTRY = "flowrpc.journal.entry.get"
    JOURNAL_LIST_ENTRIES = "flowrpc.journal.entry.list"
    JOURNAL_UPDATE_ENTRY = "flowrpc.journal.entry.update"
    JOURNAL_DELETE_ENTRY = "flowrpc.journal.entry.delete"
    JOURNAL_STATS = "flowrpc.journal.stats"
    JOURNAL_PROMPTS = "flowrpc.journal.prompts"


def health_subject(service: str) -> str:
    """Each service answers a health request on its own subject."""
    return f"flowrpc.{service}.health"


def dead_letter_subject(consumer: str) -> str:
    return f"flowdlq.{consumer}"


# Headers carried on dead letters so an operator can see and replay them.
DLQ_HEADER_SUBJECT = "Flowlearn-Original-Subject"
DLQ_HEADER_ERROR = "Flowlearn-Error"
DLQ_HEADER_DELIVERIES = "Flowlearn-Deliveries"
DLQ_HEADER_CONSUMER = "Flowlearn-Consumer"
MSG_ID_HEADER = "Nats-Msg-Id"
