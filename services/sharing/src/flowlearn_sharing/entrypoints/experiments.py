"""Request/reply for Three Ps experiments, and the stage-change event (for AsyncAPI)."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.contracts import experiments as x
from flowlearn_shared.events import ExperimentStageChanged
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pydantic import BaseModel

from flowlearn_sharing.entrypoints.messaging import QUEUE, UseCase
from flowlearn_sharing.service_layer.experiments import ExperimentService


def register(broker: NatsBroker, experiments: ExperimentService) -> None:
    s = experiments
    routes: list[tuple[RpcSubject, type[BaseModel], UseCase]] = [
        (RpcSubject.SHARING_CREATE_EXPERIMENT, x.CreateExperimentRequest, s.create),
        (RpcSubject.SHARING_GET_EXPERIMENT, x.ExperimentRef, s.get),
        (RpcSubject.SHARING_LIST_EXPERIMENTS, x.ListExperimentsRequest, s.browse),
        (RpcSubject.SHARING_CHANGE_EXPERIMENT_STAGE, x.ChangeStageRequest, s.change_stage),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)
    broker.publisher(
        EventSubject.EXPERIMENT_STAGE_CHANGED,
        schema=ExperimentStageChanged,
        title=f"sharing:{EventSubject.EXPERIMENT_STAGE_CHANGED}",
        description="Published through the sharing service's outbox on FLOW_EVENTS.",
    )
