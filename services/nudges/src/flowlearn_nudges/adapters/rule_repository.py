"""Event-triggered rules in MongoDB, with the built-in defaults seeded when missing."""

from __future__ import annotations

import logging
from typing import Any

from flowlearn_shared.contracts.nudges import NudgeType
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.domain.rules import (
    InvalidRule,
    Rule,
    Target,
    format_delay,
    parse_delay,
)

log = logging.getLogger("flowlearn.nudges.rules")

Document = dict[str, Any]


def rule_document(rule: Rule) -> Document:
    return {
        "_id": rule.id,
        "on": str(rule.on),
        "where": rule.where,
        "after": format_delay(rule.after),
        "nudge": str(rule.nudge),
        "to": str(rule.to),
        "limit": rule.limit,
        "message": rule.message,
        "enabled": rule.enabled,
        "builtin": rule.builtin,
    }


def rule_from(doc: Document) -> Rule:
    return Rule(
        id=doc["_id"],
        on=doc["on"],
        nudge=NudgeType(doc["nudge"]),
        to=Target(doc["to"]),
        after=parse_delay(doc.get("after", 0)),
        where=dict(doc.get("where") or {}),
        limit=doc.get("limit"),
        message=doc.get("message"),
        enabled=bool(doc.get("enabled", True)),
        builtin=bool(doc.get("builtin", False)),
    )


class RuleRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.rules = db["rules"]

    async def ensure_indexes(self) -> None:
        await self.rules.create_index([("on", ASCENDING)], name="by_event")

    async def seed(self, defaults: list[Rule]) -> int:
        """Insert each built-in rule that is missing; one an operator changed stays as is."""
        added = 0
        for rule in defaults:
            result = await self.rules.update_one(
                {"_id": rule.id}, {"$setOnInsert": rule_document(rule)}, upsert=True
            )
            added += int(result.upserted_id is not None)
        return added

    async def save(self, rule: Rule) -> None:
        await self.rules.replace_one({"_id": rule.id}, rule_document(rule), upsert=True)

    async def for_event(
        self, event_type: str, session: AsyncClientSession | None = None
    ) -> list[Rule]:
        cursor = self.rules.find({"on": event_type, "enabled": True}, session=session)
        rules = []
        async for doc in cursor.sort("_id", ASCENDING):
            try:
                rules.append(rule_from(doc))
            except (InvalidRule, ValueError, KeyError) as exc:
                # One broken rule must not stop the others (or the consumer).
                log.error(
                    "skipping an invalid rule", extra={"rule_id": doc.get("_id"), "error": str(exc)}
                )
        return rules
