"""The portfolio's use cases: events from the sharing service feed it, and its owner (the
only person who may) exports it as JSON, Markdown or xAPI statements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flowlearn_shared.contracts.portfolio import (
    PORTFOLIO_SECTION_MAX,
    PortfolioExport,
    PortfolioFormat,
    PortfolioPublic,
    PortfolioRequest,
)
from flowlearn_shared.events import AnswerAccepted, Event, ExperimentStageChanged, KudosGiven

from flowlearn_journal.adapters.portfolio import PortfolioRepository
from flowlearn_journal.adapters.zones import ZoneBook
from flowlearn_journal.domain import portfolio as rules
from flowlearn_journal.domain.xapi import to_statements

Clock = Callable[[], datetime]


class PortfolioEvents:
    """One handler for the kudos, accepted-answer and experiment consumers. Each record is
    keyed by an id from its event, so a redelivered event has no second effect."""

    def __init__(self, repository: PortfolioRepository) -> None:
        self.repository = repository

    async def __call__(self, event: Event) -> None:
        if isinstance(event, KudosGiven):
            await self.repository.add_kudos(event.data, event.time)
        elif isinstance(event, AnswerAccepted):
            await self.repository.accept_answer(event.data, event.time)
        elif isinstance(event, ExperimentStageChanged):
            await self.repository.add_experiment_step(str(event.id), event.data, event.time)


class PortfolioService:
    def __init__(
        self,
        repository: PortfolioRepository,
        people: ZoneBook,
        *,
        xapi_home_page: str,
        max_bytes: int,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.repository = repository
        self.people = people
        self.xapi_home_page = xapi_home_page
        self.max_bytes = max_bytes
        self.clock = clock

    async def portfolio_of(self, user_id: str, name: str | None) -> PortfolioPublic:
        # One more than a section keeps, so a cut is noticed.
        limit = PORTFOLIO_SECTION_MAX + 1
        entries = await self.repository.evidence_of(user_id, limit)
        kudos = await self.repository.kudos_of(user_id, limit)
        answers = await self.repository.answers_of(user_id, limit)
        experiments = rules.experiment_records(
            await self.repository.experiment_steps_of(user_id, limit)
        )
        names = await self.people.names_of({user_id, *(k.from_id for k in kudos)})
        kudos = [k.model_copy(update={"from_name": names.get(k.from_id)}) for k in kudos]
        portfolio = PortfolioPublic(
            user_id=user_id,
            name=name or names.get(user_id),
            generated_at=self.clock(),
            evidence=[rules.evidence_item(e) for e in entries if rules.is_evidence(e)],
            kudos=kudos,
            answers=answers,
            experiments=experiments,
        )
        return rules.newest(portfolio, PORTFOLIO_SECTION_MAX)

    def render(self, portfolio: PortfolioPublic, request: PortfolioRequest) -> PortfolioExport:
        if request.format == PortfolioFormat.MARKDOWN:
            return PortfolioExport(format=request.format, markdown=rules.to_markdown(portfolio))
        if request.format == PortfolioFormat.XAPI:
            statements = to_statements(portfolio, self.xapi_home_page, request.email)
            return PortfolioExport(format=request.format, statements=statements)
        return PortfolioExport(format=request.format, portfolio=portfolio)

    async def export(self, request: PortfolioRequest) -> PortfolioExport:
        """The caller's own portfolio; there is no way to name anyone else's."""
        actor = request.actor
        portfolio = await self.portfolio_of(actor.user_id, actor.name)

        def fits(candidate: PortfolioPublic) -> bool:
            size = len(self.render(candidate, request).model_dump_json().encode())
            return size <= self.max_bytes

        return self.render(rules.fit(portfolio, fits), request)
