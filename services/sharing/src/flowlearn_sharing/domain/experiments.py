"""Three Ps experiments: pitch -> prototype -> pilot -> done, or stopped from any open stage.
Only the owner moves an experiment, one step at a time, saying what the step taught."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.experiments import ExperimentCreate, ExperimentStage, StageChange
from flowlearn_shared.events import ExperimentStageChanged, ExperimentStageChangedData

from flowlearn_sharing.domain.audience import Viewer
from flowlearn_sharing.domain.rules import NotPermitted, WrongState

SOURCE = "flowlearn/sharing"
FORWARD = {
    ExperimentStage.PITCH: ExperimentStage.PROTOTYPE,
    ExperimentStage.PROTOTYPE: ExperimentStage.PILOT,
    ExperimentStage.PILOT: ExperimentStage.DONE,
}


@dataclass(frozen=True)
class StageStep:
    from_stage: ExperimentStage | None
    to_stage: ExperimentStage
    learned: str | None
    at: datetime


@dataclass(frozen=True)
class Experiment:
    id: str
    team_id: str
    title: str
    pitch: str
    stage: ExperimentStage
    owner_id: str
    history: tuple[StageStep, ...]
    version: int
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    def can_see(self, viewer: Viewer) -> bool:
        return viewer.user_id == self.owner_id or self.team_id in viewer.team_ids

    @property
    def is_open(self) -> bool:
        return self.stage in FORWARD


def _stage_event(experiment: Experiment, step: StageStep) -> ExperimentStageChanged:
    return ExperimentStageChanged(
        source=SOURCE,
        subject=experiment.owner_id,
        time=step.at,
        data=ExperimentStageChangedData(
            experiment_id=experiment.id,
            owner_id=experiment.owner_id,
            team_id=experiment.team_id,
            title=experiment.title,
            from_stage=step.from_stage.value if step.from_stage else None,
            to_stage=step.to_stage.value,
            learned=step.learned,
        ),
    )


def pitch(experiment_id: str, owner: Viewer, data: ExperimentCreate, now: datetime) -> Experiment:
    if data.team_id not in owner.team_ids:
        raise NotPermitted("you can only run experiments in a team you belong to")
    step = StageStep(None, ExperimentStage.PITCH, None, now)
    experiment = Experiment(
        id=experiment_id,
        team_id=data.team_id,
        title=data.title,
        pitch=data.pitch,
        stage=ExperimentStage.PITCH,
        owner_id=owner.user_id,
        history=(step,),
        version=1,
        created_at=now,
        updated_at=now,
    )
    experiment.events.append(_stage_event(experiment, step))
    return experiment


def change_stage(
    experiment: Experiment, user_id: str, change: StageChange, now: datetime
) -> Experiment:
    if user_id != experiment.owner_id:
        raise NotPermitted("only the experiment's owner moves it to another stage")
    if not experiment.is_open:
        raise WrongState(f"the experiment is {experiment.stage.value}; it cannot move any more")
    if change.to not in (FORWARD[experiment.stage], ExperimentStage.STOPPED):
        raise WrongState(
            f"from {experiment.stage.value} an experiment moves to "
            f"{FORWARD[experiment.stage].value} or stopped"
        )
    step = StageStep(experiment.stage, change.to, change.learned, now)
    moved = replace(
        experiment,
        stage=change.to,
        history=(*experiment.history, step),
        version=experiment.version + 1,
        updated_at=now,
        events=[],
    )
    moved.events.append(_stage_event(moved, step))
    return moved
