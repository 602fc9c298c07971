"""The portfolio a journal builds for its owner: evidence entries, kudos received, accepted
answers and experiments, exported as JSON, Markdown or xAPI 1.0.3 statements.

Only the owner ever asks for it, so every request carries just the verified actor.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from flowlearn_shared.contracts.journal import EntryKind, Evidence
from flowlearn_shared.rpc import Actor

# Newest items kept per section; a larger portfolio is cut and marked ``truncated``.
PORTFOLIO_SECTION_MAX = 500


class PortfolioFormat(StrEnum):
    JSON = "json"
    MARKDOWN = "md"
    XAPI = "xapi"


class EvidenceItem(BaseModel):
    """A journal entry marked as evidence, or an achievement."""

    entry_id: str
    kind: EntryKind
    title: str | None
    body: str = Field(description="Markdown")
    tags: list[str]
    skills: list[str]
    occurred_on: date
    minutes: int | None
    evidence: Evidence | None
    version: int
    created_at: datetime


class KudosReceived(BaseModel):
    kudos_id: str
    from_id: str
    from_name: str | None = Field(description="The sender's display name, when known")
    message: str
    strengths: list[str]
    visibility: str
    given_at: datetime


class AcceptedAnswer(BaseModel):
    """An answer of the owner's that the asker accepted. The question's text stays with
    its audience; the portfolio names it by id and path."""

    answer_id: str
    question_id: str
    question_path: str = Field(description="API path of the question, e.g. /v1/questions/q1")
    asker_id: str
    tags: list[str]
    accepted_at: datetime


class ExperimentStep(BaseModel):
    step_id: str
    from_stage: str | None
    to_stage: str
    learned: str | None
    at: datetime


class ExperimentRecord(BaseModel):
    """A Three Ps experiment the owner runs: where it stands and what each stage taught."""

    experiment_id: str
    team_id: str
    title: str
    stage: str
    steps: list[ExperimentStep] = Field(description="Oldest first")
    started_at: datetime
    updated_at: datetime


class PortfolioPublic(BaseModel):
    user_id: str
    name: str | None
    generated_at: datetime
    evidence: list[EvidenceItem] = Field(description="Newest first")
    kudos: list[KudosReceived] = Field(description="Newest first")
    answers: list[AcceptedAnswer] = Field(description="Newest first")
    experiments: list[ExperimentRecord] = Field(description="Most recently changed first")
    truncated: bool = Field(
        default=False, description="True when the oldest items were left out to fit the export"
    )


# xAPI 1.0.3 (https://github.com/adlnet/xAPI-Spec). Field names follow the specification;
# absent optional properties are left out of the JSON rather than sent as null.
LanguageMap = dict[str, str]


class XapiAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    homePage: str  # xAPI property names are camelCase
    name: str


class XapiAgent(BaseModel):
    """Identified by exactly one of ``mbox`` or ``account``, as xAPI requires."""

    model_config = ConfigDict(extra="forbid")

    objectType: Literal["Agent"] = "Agent"
    mbox: str | None = Field(default=None, pattern=r"^mailto:")
    account: XapiAccount | None = None


class XapiVerb(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="IRI")
    display: LanguageMap


class XapiActivityDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: LanguageMap
    description: LanguageMap | None = None
    type: str | None = Field(default=None, description="IRI")
    moreInfo: str | None = None
    extensions: dict[str, Any] | None = None


class XapiActivity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objectType: Literal["Activity"] = "Activity"
    id: str = Field(description="IRI")
    definition: XapiActivityDefinition


class XapiResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool | None = None
    completion: bool | None = None
    response: str | None = None
    duration: str | None = Field(default=None, description="ISO 8601 duration")
    extensions: dict[str, Any] | None = None


class XapiContextActivities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent: list[XapiActivity] | None = None
    grouping: list[XapiActivity] | None = None
    category: list[XapiActivity] | None = None
    other: list[XapiActivity] | None = None


class XapiContext(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str | None = None
    language: str | None = None
    contextActivities: XapiContextActivities | None = None
    extensions: dict[str, Any] | None = None


class XapiStatement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID
    actor: XapiAgent
    verb: XapiVerb
    object: XapiActivity
    result: XapiResult | None = None
    context: XapiContext | None = None
    timestamp: datetime


class PortfolioRequest(BaseModel):
    actor: Actor
    format: PortfolioFormat = PortfolioFormat.JSON
    email: str | None = Field(
        default=None, max_length=320, description="Verified e-mail, for the xAPI actor's mbox"
    )


class PortfolioExport(BaseModel):
    """The portfolio in the form asked for: exactly one of the three is set."""

    format: PortfolioFormat
    portfolio: PortfolioPublic | None = None
    markdown: str | None = None
    statements: list[XapiStatement] | None = None
