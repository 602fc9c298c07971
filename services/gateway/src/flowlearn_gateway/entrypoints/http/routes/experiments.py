"""``/v1/experiments``: Three Ps experiments (pitch -> prototype -> pilot -> done, or
stopped), seen by the owner's team; only the owner moves one on."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from flowlearn_shared.contracts.experiments import (
    ChangeStageRequest,
    CreateExperimentRequest,
    ExperimentCreate,
    ExperimentPage,
    ExperimentPublic,
    ExperimentQuery,
    ExperimentRef,
    ExperimentStage,
    ListExperimentsRequest,
    StageChange,
)
from flowlearn_shared.contracts.people import ID_PATTERN
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import LOCATION_HEADER, PROBLEM_RESPONSES, problem

PREFIX = "/v1/experiments"
router = APIRouter(prefix=PREFIX, tags=["experiments"], responses=PROBLEM_RESPONSES)

ExperimentId = Annotated[str, Path(pattern=ID_PATTERN, description="The experiment's id")]
NO_SUCH_EXPERIMENT = problem(404, "No such experiment, or not one of the caller's teams")


@router.post(
    "",
    response_model=ExperimentPublic,
    status_code=201,
    summary="Pitch an experiment",
    responses={
        201: {"headers": {"Location": LOCATION_HEADER}},
        **problem(403, "The caller is not a member of that team"),
    },
)
async def create_experiment(
    experiment: ExperimentCreate, user: CurrentUser, rpc: Rpc, response: Response
) -> ExperimentPublic:
    request = CreateExperimentRequest(actor=user, experiment=experiment)
    created = await rpc.request(RpcSubject.SHARING_CREATE_EXPERIMENT, request, ExperimentPublic)
    response.headers["Location"] = f"{PREFIX}/{quote(created.id, safe='')}"
    return created


@router.get("", response_model=ExperimentPage, summary="Experiments of my teams, newest first")
async def list_experiments(
    user: CurrentUser,
    rpc: Rpc,
    team: Annotated[str | None, Query(pattern=ID_PATTERN, description="One team")] = None,
    stage: ExperimentStage | None = None,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Page size; above {PAGE_LIMIT_MAX} is read as {PAGE_LIMIT_MAX}."),
    ] = 20,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> ExperimentPage:
    query = ExperimentQuery(team=team, stage=stage, limit=min(limit, PAGE_LIMIT_MAX), cursor=cursor)
    request = ListExperimentsRequest(actor=user, query=query)
    return await rpc.request(RpcSubject.SHARING_LIST_EXPERIMENTS, request, ExperimentPage)


@router.get(
    "/{experiment_id}",
    response_model=ExperimentPublic,
    summary="Read an experiment",
    responses=NO_SUCH_EXPERIMENT,
)
async def get_experiment(
    experiment_id: ExperimentId, user: CurrentUser, rpc: Rpc
) -> ExperimentPublic:
    request = ExperimentRef(actor=user, experiment_id=experiment_id)
    return await rpc.request(RpcSubject.SHARING_GET_EXPERIMENT, request, ExperimentPublic)


@router.post(
    "/{experiment_id}/stage",
    response_model=ExperimentPublic,
    summary="Move an experiment to its next stage, or stop it (its owner only)",
    responses={
        **NO_SUCH_EXPERIMENT,
        **problem(403, "Only the owner moves an experiment"),
        **problem(409, "Not the next stage, or the experiment is done or stopped"),
    },
)
async def change_stage(
    experiment_id: ExperimentId, change: StageChange, user: CurrentUser, rpc: Rpc
) -> ExperimentPublic:
    """One step forward (pitch -> prototype -> pilot -> done) or `stopped`, with what the
    stage taught in `learned`."""
    request = ChangeStageRequest(actor=user, experiment_id=experiment_id, change=change)
    return await rpc.request(RpcSubject.SHARING_CHANGE_EXPERIMENT_STAGE, request, ExperimentPublic)
