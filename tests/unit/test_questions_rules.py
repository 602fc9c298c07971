"""Q&A rules without servers: expert ranking, votes, accepting, search words and snippets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flowlearn_shared.contracts.questions import QuestionCreate, QuestionQuery, SearchQuery
from flowlearn_sharing.adapters.search_repository import words_match, words_of
from flowlearn_sharing.domain import questions as rules
from flowlearn_sharing.service_layer.search import snippet, title_of
from pydantic import ValidationError

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_experts_rank_by_accepted_answers_plus_posts_without_the_asker() -> None:
    ranked = rules.rank_experts(
        accepted_answers={"ann": 2, "bea": 1, "asker": 9, "zed": 0},
        posts={"ann": 1, "cal": 2, "dan": 1, "asker": 3},
        exclude={"asker"},
    )
    # bea and dan both score 1: an accepted answer beats a post.
    assert [e.user_id for e in ranked] == ["ann", "cal", "bea", "dan"]
    assert ranked[0].score == 3


def test_experts_tie_on_everything_goes_by_user_id() -> None:
    ranked = rules.rank_experts({"b": 1, "a": 1}, {})
    assert [e.user_id for e in ranked] == ["a", "b"]


def test_only_the_asker_accepts_and_nobody_votes_on_their_own() -> None:
    question = rules.new_question(
        "q1", "asker", QuestionCreate(title="Why?", body="x"), ["e1", "e2", "e3", "e4"], NOW
    )
    assert question.suggested_experts == ["e1", "e2", "e3"]
    assert str(question.audience) == "org"
    rules.check_can_accept(question, "asker")
    with pytest.raises(rules.NotAllowed):
        rules.check_can_accept(question, "someone")
    with pytest.raises(rules.NotAllowed):
        rules.check_can_vote("asker", "asker")
    rules.check_can_vote("asker", "someone")
    assert rules.score_change(1, -1) == -2
    assert rules.score_change(-1, 0) == 1
    assert rules.asked_event(question).data.suggested_experts == ["e1", "e2", "e3"]


def test_question_contract_normalises_and_validates() -> None:
    question = QuestionCreate(title="  Why?  ", body="x", tags=["Ops", "ops ", " "])
    assert (question.title, question.tags, question.audience) == ("Why?", ["ops"], "org")
    with pytest.raises(ValidationError):
        QuestionCreate(title="   ", body="x")
    with pytest.raises(ValidationError):
        QuestionCreate(title="t", body="x", audience="everyone")
    assert QuestionQuery(tag=" Ops ").tag == "ops"
    assert QuestionQuery(tag="  ").tag is None


def test_search_words_are_trimmed_escaped_and_all_required() -> None:
    assert SearchQuery(q="  ab ").q == "ab"
    for bad in ("a", "  a  ", "x" * 201):
        with pytest.raises(ValidationError):
            SearchQuery(q=bad)
    assert words_of("Canary canary (c++) deploy") == ["canary", "(c++)", "deploy"]
    match = words_match(["(c++)", "x"], ["title", "body"])
    assert len(match["$and"]) == 2
    assert match["$and"][0]["$or"][0] == {"title": {"$regex": r"\(c\+\+\)", "$options": "i"}}


def test_snippet_shows_the_words_in_context_on_one_line() -> None:
    text = "intro " * 50 + "the Canary\nrelease " + "tail " * 50
    part = snippet(text, ["canary"])
    assert "Canary release" in part
    assert part.startswith("…")
    assert part.endswith("…")
    assert "\n" not in part
    assert snippet("short text", ["absent"]) == "short text"
    assert title_of({"title": None, "body": "word " * 40}, "body").endswith("…")
    assert title_of({"title": "Given"}, "body") == "Given"
