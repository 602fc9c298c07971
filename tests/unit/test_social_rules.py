"""Rules of kudos, collections, gatherings and experiments, without servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flowlearn_shared.contracts.curation import CollectionCreate, LinkItemCreate
from flowlearn_shared.contracts.experiments import ExperimentCreate, ExperimentStage, StageChange
from flowlearn_shared.contracts.gatherings import GatheringCreate
from flowlearn_shared.contracts.kudos import KudosCreate
from flowlearn_sharing.domain import curation, experiments, gatherings, kudos
from flowlearn_sharing.domain.audience import Viewer
from flowlearn_sharing.domain.rules import InvalidValue, NotPermitted, WrongState
from pydantic import ValidationError

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_kudos_to_oneself_is_refused() -> None:
    with pytest.raises(InvalidValue) as refused:
        kudos.give_kudos("k", "ana", KudosCreate(to="ana", message="me"), set(), NOW)
    assert refused.value.field == "to"


def test_private_kudos_are_for_the_two_team_kudos_for_the_teams() -> None:
    data = KudosCreate(to="bo", message="Nice", visibility="private")
    private = kudos.give_kudos("k", "ana", data, {"t1"}, NOW)
    team_data = KudosCreate(to="bo", message="Nice", visibility="team")
    team = kudos.give_kudos("k2", "ana", team_data, {"t1"}, NOW)
    mate = Viewer("cy", team_ids=frozenset({"t1"}))
    admin = Viewer("root", roles=frozenset({"admin"}))
    assert private.can_see(Viewer("ana"))
    assert private.can_see(Viewer("bo"))
    assert not private.can_see(mate)
    assert team.can_see(mate)
    assert not team.can_see(admin)
    assert team.events[0].data.message == "Nice"


def test_experiment_moves_one_step_or_stops() -> None:
    owner = Viewer("ana", team_ids=frozenset({"t1"}))
    with pytest.raises(NotPermitted):
        experiments.pitch("x", Viewer("ana"), ExperimentCreate(team_id="t1", title="t"), NOW)
    e = experiments.pitch("x", owner, ExperimentCreate(team_id="t1", title="t"), NOW)

    def move(
        exp: experiments.Experiment, to: ExperimentStage, user: str = "ana"
    ) -> experiments.Experiment:
        return experiments.change_stage(exp, user, StageChange(to=to, learned="l"), NOW)

    with pytest.raises(WrongState):
        move(e, ExperimentStage.PILOT)
    with pytest.raises(NotPermitted):
        move(e, ExperimentStage.PROTOTYPE, user="bo")
    for stage in (ExperimentStage.PROTOTYPE, ExperimentStage.PILOT):
        e = move(e, stage)
    assert move(e, ExperimentStage.STOPPED).stage == ExperimentStage.STOPPED
    done = move(e, ExperimentStage.DONE)
    assert [s.to_stage for s in done.history][-1] == ExperimentStage.DONE
    with pytest.raises(WrongState):
        move(done, ExperimentStage.STOPPED)


def test_gathering_needs_an_offset_and_a_future_start() -> None:
    fields = {"kind": "book_club", "title": "t", "capacity": 3, "audience": "org"}
    with pytest.raises(ValidationError):
        GatheringCreate(**fields, starts_at=datetime(2026, 3, 5, 12, 0))  # type: ignore[arg-type]
    past = GatheringCreate(**fields, starts_at=NOW - timedelta(minutes=1))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        gatherings.new_gathering("g", "ana", past, NOW)
    soon = GatheringCreate(**fields, starts_at=NOW + timedelta(hours=1))  # type: ignore[arg-type]
    g = gatherings.new_gathering("g", "ana", soon, NOW)
    assert g.status(NOW) == "upcoming"
    assert g.status(NOW + timedelta(hours=1, minutes=30)) == "ongoing"
    assert g.status(g.ends_at) == "ended"
    with pytest.raises(WrongState):
        g.check_rsvp_open(g.starts_at)


def test_collection_items_keep_their_order() -> None:
    links = [LinkItemCreate(title=f"L{n}", url=f"https://e.x/{n}") for n in range(3)]
    data = CollectionCreate(title="c", audience="org", items=links)  # type: ignore[arg-type]
    items = [curation.new_item(f"i{n}", link) for n, link in enumerate(links)]
    c = curation.new_collection("c", "cur", data, items, NOW)
    extra = curation.new_item("new", LinkItemCreate(title="N", url="https://e.x/n"))
    assert [i.id for i in curation.add_item(c, extra, 1, NOW).items] == ["i0", "new", "i1", "i2"]
    assert [i.id for i in curation.add_item(c, extra, 99, NOW).items][-1] == "new"
    assert [i.id for i in curation.reorder(c, ["i2", "i0", "i1"], NOW).items] == ["i2", "i0", "i1"]
    with pytest.raises(InvalidValue):
        curation.reorder(c, ["i2", "i0"], NOW)
    with pytest.raises(InvalidValue):
        curation.reorder(c, ["i2", "i0", "i0"], NOW)
    assert curation.remove_item(c, "nope", NOW) is None
    with pytest.raises(NotPermitted):
        curation.check_can_curate(["member", "manager"])
