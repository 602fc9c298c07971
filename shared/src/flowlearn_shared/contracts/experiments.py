"""Three Ps experiments: an idea goes pitch -> prototype -> pilot -> done, or is stopped,
with what was learned at each step. Visible to the owner's team."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from flowlearn_shared.contracts.people import Id, PersonSummary
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX
from flowlearn_shared.rpc import Actor


class ExperimentStage(StrEnum):
    PITCH = "pitch"
    PROTOTYPE = "prototype"
    PILOT = "pilot"
    DONE = "done"
    STOPPED = "stopped"


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_id: Id = Field(description="A team the owner belongs to; its members see it")
    title: str = Field(min_length=1, max_length=200)
    pitch: str = Field(default="", max_length=5000, description="The idea, in Markdown")


class StageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: ExperimentStage = Field(description="The next stage, or 'stopped'")
    learned: str = Field(
        min_length=1, max_length=5000, description="What the stage just finished taught"
    )


class StageRecord(BaseModel):
    from_stage: ExperimentStage | None
    to_stage: ExperimentStage
    learned: str | None
    at: datetime


class ExperimentPublic(BaseModel):
    id: str
    team_id: str
    title: str
    pitch: str
    stage: ExperimentStage
    owner: PersonSummary
    is_mine: bool
    history: list[StageRecord]
    version: int
    created_at: datetime
    updated_at: datetime


class ExperimentPage(BaseModel):
    items: list[ExperimentPublic]
    next_cursor: str | None


class ExperimentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: Id | None = None
    stage: ExperimentStage | None = None
    limit: int = Field(default=20, ge=1, le=PAGE_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=300)


# Requests from the gateway.
class CreateExperimentRequest(BaseModel):
    actor: Actor
    experiment: ExperimentCreate


class ExperimentRef(BaseModel):
    actor: Actor
    experiment_id: Id


class ListExperimentsRequest(BaseModel):
    actor: Actor
    query: ExperimentQuery


class ChangeStageRequest(BaseModel):
    actor: Actor
    experiment_id: Id
    change: StageChange
