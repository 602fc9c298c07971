"""Kudos ("spotting strengths"): a short note naming what a colleague did well.

``private`` kudos are seen by the sender and the recipient only; ``team`` kudos also by the
members of the teams the recipient belonged to when the kudos was given.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowlearn_shared.contracts.people import Id, PersonSummary
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX, normalise_tags
from flowlearn_shared.rpc import Actor

KUDOS_MESSAGE_MAX = 2000
Strength = Annotated[str, Field(min_length=1, max_length=50)]


class KudosVisibility(StrEnum):
    PRIVATE = "private"
    TEAM = "team"


class KudosCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Id = Field(description="The recipient's user id")
    message: str = Field(min_length=1, max_length=KUDOS_MESSAGE_MAX)
    strengths: list[Strength] = Field(
        default_factory=list, max_length=10, description="e.g. 'mentoring', 'clear writing'"
    )
    visibility: KudosVisibility = KudosVisibility.PRIVATE

    _strengths = field_validator("strengths")(normalise_tags)


class KudosPublic(BaseModel):
    id: str
    sender: PersonSummary
    recipient: PersonSummary
    message: str
    strengths: list[str]
    visibility: KudosVisibility
    created_at: datetime


class KudosPage(BaseModel):
    items: list[KudosPublic]
    next_cursor: str | None


class KudosQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    box: Literal["received", "given"] = "received"
    user: Id | None = Field(
        default=None,
        description="Whose received kudos to list; defaults to the caller. Others' private "
        "kudos are never listed.",
    )
    limit: int = Field(default=20, ge=1, le=PAGE_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=300)


# Requests from the gateway.
class GiveKudosRequest(BaseModel):
    actor: Actor
    kudos: KudosCreate


class KudosRef(BaseModel):
    actor: Actor
    kudos_id: Id


class ListKudosRequest(BaseModel):
    actor: Actor
    query: KudosQuery
