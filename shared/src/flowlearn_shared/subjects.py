"""Every NATS subject and stream name Flowlearn uses, in one place.

- Events (facts, past tense, JetStream): ``flow.<domain>.<aggregate>.<event>.v<N>``
- Requests (core NATS request/reply, gateway -> service): ``flowrpc.<service>.<operation>``
- Dead letters (JetStream): ``flowdlq.<consumer>`` with the original subject in a header
"""

from __future__ import annotations

import re
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
    JOURNAL_ENTRY_SHARED = "flow.journal.entry.shared.v1"
    PROFILE_UPDATED = "flow.people.profile.updated.v1"
    TEAM_MEMBER_ADDED = "flow.people.team.member_added.v1"
    TEAM_MEMBER_REMOVED = "flow.people.team.member_removed.v1"
    COMMUNITY_MEMBER_JOINED = "flow.people.community.member_joined.v1"
    COMMUNITY_MEMBER_LEFT = "flow.people.community.member_left.v1"
    POST_CREATED = "flow.sharing.post.created.v1"
    POST_DELETED = "flow.sharing.post.deleted.v1"
    POST_REVIEW_DUE = "flow.sharing.post.review_due.v1"
    KUDOS_GIVEN = "flow.sharing.kudos.given.v1"
    COLLECTION_ENROLLED = "flow.sharing.collection.enrolled.v1"
    COLLECTION_UNENROLLED = "flow.sharing.collection.unenrolled.v1"
    GATHERING_ENDED = "flow.sharing.gathering.ended.v1"
    EXPERIMENT_STAGE_CHANGED = "flow.sharing.experiment.stage_changed.v1"
    QUESTION_ASKED = "flow.sharing.question.asked.v1"
    ANSWER_ACCEPTED = "flow.sharing.answer.accepted.v1"
    NUDGE_DELIVERED = "flow.nudges.nudge.delivered.v1"
    # Erasure of a person: requested once (the people directory, in sharing), confirmed by
    # every service that holds their data.
    PERSON_ERASURE_REQUESTED = "flow.people.person.erasure_requested.v1"
    JOURNAL_PERSON_ERASED = "flow.journal.person.erased.v1"
    SHARING_PERSON_ERASED = "flow.sharing.person.erased.v1"
    NUDGES_PERSON_ERASED = "flow.nudges.person.erased.v1"


class RpcSubject(StrEnum):
    """Request/reply subjects served by one queue group per service."""

    JOURNAL_CREATE_ENTRY = "flowrpc.journal.entry.create"
    JOURNAL_GET_ENTRY = "flowrpc.journal.entry.get"
    JOURNAL_LIST_ENTRIES = "flowrpc.journal.entry.list"
    JOURNAL_UPDATE_ENTRY = "flowrpc.journal.entry.update"
    JOURNAL_DELETE_ENTRY = "flowrpc.journal.entry.delete"
    JOURNAL_STATS = "flowrpc.journal.stats"
    JOURNAL_PROMPTS = "flowrpc.journal.prompts"
    JOURNAL_SHARE_ENTRY = "flowrpc.journal.entry.share"
    JOURNAL_PORTFOLIO = "flowrpc.journal.portfolio"
    JOURNAL_EXPORT_PERSONAL_DATA = "flowrpc.journal.personal_data.export"

    SHARING_ME = "flowrpc.sharing.me.get"
    SHARING_UPDATE_ME = "flowrpc.sharing.me.update"
    SHARING_CHECK_AUDIENCE = "flowrpc.sharing.audience.check"
    SHARING_CREATE_TEAM = "flowrpc.sharing.team.create"
    SHARING_GET_TEAM = "flowrpc.sharing.team.get"
    SHARING_ADD_TEAM_MEMBER = "flowrpc.sharing.team.member.add"
    SHARING_REMOVE_TEAM_MEMBER = "flowrpc.sharing.team.member.remove"
    SHARING_MY_TEAMS = "flowrpc.sharing.team.mine"
    SHARING_CREATE_COMMUNITY = "flowrpc.sharing.community.create"
    SHARING_LIST_COMMUNITIES = "flowrpc.sharing.community.list"
    SHARING_JOIN_COMMUNITY = "flowrpc.sharing.community.join"
    SHARING_LEAVE_COMMUNITY = "flowrpc.sharing.community.leave"
    SHARING_CREATE_POST = "flowrpc.sharing.post.create"
    SHARING_GET_POST = "flowrpc.sharing.post.get"
    SHARING_UPDATE_POST = "flowrpc.sharing.post.update"
    SHARING_DELETE_POST = "flowrpc.sharing.post.delete"
    SHARING_REACT = "flowrpc.sharing.post.react"
    SHARING_COMMENT = "flowrpc.sharing.post.comment"
    SHARING_LIST_COMMENTS = "flowrpc.sharing.post.comments"
    SHARING_FEED = "flowrpc.sharing.feed"
    SHARING_GIVE_KUDOS = "flowrpc.sharing.kudos.give"
    SHARING_GET_KUDOS = "flowrpc.sharing.kudos.get"
    SHARING_LIST_KUDOS = "flowrpc.sharing.kudos.list"
    SHARING_CREATE_COLLECTION = "flowrpc.sharing.collection.create"
    SHARING_GET_COLLECTION = "flowrpc.sharing.collection.get"
    SHARING_LIST_COLLECTIONS = "flowrpc.sharing.collection.list"
    SHARING_UPDATE_COLLECTION = "flowrpc.sharing.collection.update"
    SHARING_ADD_COLLECTION_ITEM = "flowrpc.sharing.collection.item.add"
    SHARING_REORDER_COLLECTION_ITEMS = "flowrpc.sharing.collection.item.reorder"
    SHARING_REMOVE_COLLECTION_ITEM = "flowrpc.sharing.collection.item.remove"
    SHARING_ENROLL = "flowrpc.sharing.collection.enroll"
    SHARING_UNENROLL = "flowrpc.sharing.collection.unenroll"
    SHARING_CREATE_GATHERING = "flowrpc.sharing.gathering.create"
    SHARING_GET_GATHERING = "flowrpc.sharing.gathering.get"
    SHARING_LIST_GATHERINGS = "flowrpc.sharing.gathering.list"
    SHARING_RSVP = "flowrpc.sharing.gathering.rsvp"
    SHARING_CANCEL_RSVP = "flowrpc.sharing.gathering.rsvp.cancel"
    SHARING_GATHERING_ATTENDEES = "flowrpc.sharing.gathering.attendees"
    SHARING_CREATE_EXPERIMENT = "flowrpc.sharing.experiment.create"
    SHARING_GET_EXPERIMENT = "flowrpc.sharing.experiment.get"
    SHARING_LIST_EXPERIMENTS = "flowrpc.sharing.experiment.list"
    SHARING_CHANGE_EXPERIMENT_STAGE = "flowrpc.sharing.experiment.stage"
    SHARING_ASK_QUESTION = "flowrpc.sharing.question.ask"
    SHARING_GET_QUESTION = "flowrpc.sharing.question.get"
    SHARING_LIST_QUESTIONS = "flowrpc.sharing.question.list"
    SHARING_ANSWER_QUESTION = "flowrpc.sharing.question.answer"
    SHARING_ACCEPT_ANSWER = "flowrpc.sharing.answer.accept"
    SHARING_VOTE_QUESTION = "flowrpc.sharing.question.vote"
    SHARING_VOTE_ANSWER = "flowrpc.sharing.answer.vote"
    SHARING_SEARCH = "flowrpc.sharing.search"
    SHARING_EXPORT_PERSONAL_DATA = "flowrpc.sharing.personal_data.export"
    SHARING_ERASE_PERSON = "flowrpc.sharing.personal_data.erase"
    SHARING_ERASURE_STATUS = "flowrpc.sharing.personal_data.erasure"

    NUDGES_GET_PREFERENCES = "flowrpc.nudges.preferences.get"
    NUDGES_UPDATE_PREFERENCES = "flowrpc.nudges.preferences.update"
    NUDGES_INBOX = "flowrpc.nudges.inbox"
    NUDGES_ACK = "flowrpc.nudges.nudge.ack"
    NUDGES_CREATE_CAMPAIGN = "flowrpc.nudges.campaign.create"
    NUDGES_GET_CAMPAIGN = "flowrpc.nudges.campaign.get"
    NUDGES_EXPORT_PERSONAL_DATA = "flowrpc.nudges.personal_data.export"


# Whole families of events, for consumers that react to several of them.
JOURNAL_ENTRY_EVENTS = "flow.journal.entry.*.v1"
PEOPLE_EVENTS = "flow.people.>"
SHARING_EVENTS = "flow.sharing.>"
# Inbound events from outside tools (CI, incidents...), as ``flow.work.<source>.<type>.v1``.
WORK_EVENTS = "flow.work.>"
WORK_EVENT_PREFIX = "flow.work."
# Every service's confirmation that it erased a person: ``flow.<service>.person.erased.v1``.
PERSON_ERASED_EVENTS = "flow.*.person.erased.v1"


_NOT_TOKEN = re.compile(r"[^a-z0-9_-]+")
WORK_TYPE_MAX_TOKENS = 6
WORK_TOKEN_MAX_CHARS = 64


def subject_token(value: str) -> str:
    """One subject token from outside input: lower case, only ``[a-z0-9_-]``."""
    return _NOT_TOKEN.sub("_", value.strip().lower()).strip("_")[:WORK_TOKEN_MAX_CHARS]


def work_subject(source: str, event_type: str) -> str:
    """``flow.work.<source>.<type>.v1`` for an outside event; its dotted type keeps its
    tokens (``incident.closed``), each one sanitised. Raises ValueError when nothing is left."""
    source_token = subject_token(source)
    type_tokens = [t for t in (subject_token(p) for p in event_type.split(".")) if t]
    if not source_token or not type_tokens or len(type_tokens) > WORK_TYPE_MAX_TOKENS:
        raise ValueError("the source and type must have letters or digits")
    return f"{WORK_EVENT_PREFIX}{source_token}.{'.'.join(type_tokens)}.v1"


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
