"""A portfolio as xAPI 1.0.3 statements, for any learning record store.

Verbs come from the ADL vocabulary where one fits; ``reflected``, ``praised`` and
``stopped`` have none there, so they are Flowlearn's own IRIs. Every statement id is a UUID
derived from what the statement records, so exporting the same portfolio again gives the
same ids, and a store that already holds a statement recognises it. An edited entry is a
new statement (its version is part of the id): stored statements never change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, UUID, uuid5

from flowlearn_shared.contracts.journal import EntryKind
from flowlearn_shared.contracts.portfolio import (
    AcceptedAnswer,
    EvidenceItem,
    ExperimentRecord,
    ExperimentStep,
    KudosReceived,
    PortfolioPublic,
    XapiAccount,
    XapiActivity,
    XapiActivityDefinition,
    XapiAgent,
    XapiContext,
    XapiResult,
    XapiStatement,
    XapiVerb,
)

FLOWLEARN_XAPI = "https://flowlearn.dev/xapi"
ADL_VERBS = "http://adlnet.gov/expapi/verbs"
STATEMENT_NAMESPACE = uuid5(NAMESPACE_URL, f"{FLOWLEARN_XAPI}/statements")
PLATFORM = "Flowlearn"
LANG = "en-US"


def _verb(iri: str, display: str) -> XapiVerb:
    return XapiVerb(id=iri, display={LANG: display})


ANSWERED = _verb(f"{ADL_VERBS}/answered", "answered")
ATTEMPTED = _verb(f"{ADL_VERBS}/attempted", "attempted")
COMPLETED = _verb(f"{ADL_VERBS}/completed", "completed")
INTERACTED = _verb(f"{ADL_VERBS}/interacted", "interacted")
PROGRESSED = _verb(f"{ADL_VERBS}/progressed", "progressed")
REFLECTED = _verb(f"{FLOWLEARN_XAPI}/verbs/reflected", "reflected")
PRAISED = _verb(f"{FLOWLEARN_XAPI}/verbs/praised", "praised")
STOPPED = _verb(f"{FLOWLEARN_XAPI}/verbs/stopped", "stopped")

ENTRY_VERBS = {
    EntryKind.REFLECTION: REFLECTED,
    EntryKind.LEARNED: REFLECTED,
    EntryKind.MISTAKE: REFLECTED,
    EntryKind.GEM: REFLECTED,
    EntryKind.ACHIEVEMENT: COMPLETED,
    EntryKind.INTERACTION: INTERACTED,
    EntryKind.EXPERIMENT: ATTEMPTED,
}
STAGE_VERBS = {
    "pitch": ATTEMPTED,
    "prototype": PROGRESSED,
    "pilot": PROGRESSED,
    "done": COMPLETED,
    "stopped": STOPPED,
}

# ADL's activity type for a question; the rest are Flowlearn's.
QUESTION_TYPE = "http://adlnet.gov/expapi/activities/question"
ENTRY_TYPE = f"{FLOWLEARN_XAPI}/activity-types/journal-entry"
KUDOS_TYPE = f"{FLOWLEARN_XAPI}/activity-types/kudos"
EXPERIMENT_TYPE = f"{FLOWLEARN_XAPI}/activity-types/experiment"


def extension(name: str) -> str:
    return f"{FLOWLEARN_XAPI}/extensions/{name}"


def activity_id(kind: str, source_id: str) -> str:
    return f"{FLOWLEARN_XAPI}/activities/{kind}/{quote(source_id, safe='')}"


def statement_id(source: str) -> UUID:
    return uuid5(STATEMENT_NAMESPACE, source)


def person(user_id: str, home_page: str, email: str | None = None) -> XapiAgent:
    """An Agent has exactly one identifier: the e-mail when known, else the account."""
    if email:
        return XapiAgent(mbox=f"mailto:{email}")
    return XapiAgent(account=XapiAccount(homePage=home_page, name=user_id))


def _lang(text: str | None) -> dict[str, str] | None:
    return {LANG: text} if text else None


def _context(**extensions: Any) -> XapiContext:
    present = {extension(k.replace("_", "-")): v for k, v in extensions.items() if v}
    return XapiContext(platform=PLATFORM, extensions=present or None)


def _is_iri(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("http://", "https://"))


def _entry_statement(actor: XapiAgent, item: EvidenceItem) -> XapiStatement:
    name = item.title or f"{item.kind.value.capitalize()} on {item.occurred_on.isoformat()}"
    evidence_url = item.evidence.url if item.evidence else None
    return XapiStatement(
        id=statement_id(f"entry:{item.entry_id}:v{item.version}"),
        actor=actor,
        verb=ENTRY_VERBS[item.kind],
        object=XapiActivity(
            id=activity_id("entry", item.entry_id),
            definition=XapiActivityDefinition(
                name={LANG: name},
                description=_lang(item.body),
                type=ENTRY_TYPE,
                moreInfo=evidence_url if _is_iri(evidence_url) else None,
            ),
        ),
        result=XapiResult(duration=f"PT{item.minutes}M") if item.minutes else None,
        context=_context(
            entry_kind=item.kind.value,
            occurred_on=item.occurred_on.isoformat(),
            tags=item.tags,
            skills=item.skills,
            evidence=item.evidence.model_dump(exclude_none=True) if item.evidence else None,
        ),
        timestamp=item.created_at,
    )


def _kudos_statement(owner: XapiAgent, kudos: KudosReceived, home_page: str) -> XapiStatement:
    # Praising is the sender's act: the sender is the actor and the owner, whose portfolio
    # this is, the recipient named in the context.
    title = "Kudos" + (f": {', '.join(kudos.strengths)}" if kudos.strengths else "")
    return XapiStatement(
        id=statement_id(f"kudos:{kudos.kudos_id}"),
        actor=person(kudos.from_id, home_page),
        verb=PRAISED,
        object=XapiActivity(
            id=activity_id("kudos", kudos.kudos_id),
            definition=XapiActivityDefinition(
                name={LANG: title}, description={LANG: kudos.message}, type=KUDOS_TYPE
            ),
        ),
        context=_context(
            recipient=owner.model_dump(mode="json", exclude_none=True),
            strengths=kudos.strengths,
            visibility=kudos.visibility,
        ),
        timestamp=kudos.given_at,
    )


def _answer_statement(actor: XapiAgent, answer: AcceptedAnswer) -> XapiStatement:
    return XapiStatement(
        id=statement_id(f"answer:{answer.answer_id}:{answer.accepted_at.isoformat()}"),
        actor=actor,
        verb=ANSWERED,
        object=XapiActivity(
            id=activity_id("question", answer.question_id),
            definition=XapiActivityDefinition(
                name={LANG: f"Question {answer.question_id}"},
                description={LANG: "A colleague's question; the asker accepted this answer."},
                type=QUESTION_TYPE,
            ),
        ),
        result=XapiResult(success=True, extensions={extension("answer-id"): answer.answer_id}),
        context=_context(tags=answer.tags, asker_id=answer.asker_id),
        timestamp=answer.accepted_at,
    )


def _step_statement(
    actor: XapiAgent, record: ExperimentRecord, step: ExperimentStep
) -> XapiStatement:
    finished = {"done": True, "stopped": False}.get(step.to_stage)
    return XapiStatement(
        id=statement_id(f"experiment-step:{step.step_id}"),
        actor=actor,
        verb=STAGE_VERBS.get(step.to_stage, PROGRESSED),
        object=XapiActivity(
            id=activity_id("experiment", record.experiment_id),
            definition=XapiActivityDefinition(
                name={LANG: record.title},
                description={LANG: "A Three Ps experiment: pitch, prototype, pilot."},
                type=EXPERIMENT_TYPE,
            ),
        ),
        result=XapiResult(response=step.learned, completion=finished)
        if step.learned or finished is not None
        else None,
        context=_context(
            from_stage=step.from_stage, to_stage=step.to_stage, team_id=record.team_id
        ),
        timestamp=step.at,
    )


def _when(statement: XapiStatement) -> tuple[datetime, str]:
    return statement.timestamp, str(statement.id)


def to_statements(
    portfolio: PortfolioPublic, home_page: str, email: str | None = None
) -> list[XapiStatement]:
    """Every statement of the portfolio, oldest first, as a store would replay them."""
    owner = person(portfolio.user_id, home_page, email)
    statements = [_entry_statement(owner, item) for item in portfolio.evidence]
    statements += [_kudos_statement(owner, k, home_page) for k in portfolio.kudos]
    statements += [_answer_statement(owner, a) for a in portfolio.answers]
    for record in portfolio.experiments:
        statements += [_step_statement(owner, record, step) for step in record.steps]
    return sorted(statements, key=_when)
