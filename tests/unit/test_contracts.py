"""The committed OpenAPI and AsyncAPI documents match the code."""

from __future__ import annotations

import pytest
from flowlearn_cli import contracts

pytestmark = pytest.mark.unit


def test_committed_documents_match_the_code() -> None:
    assert contracts.drifted() == [], "API documents are out of date: run `make docs`"


def test_journal_events_are_documented_with_their_payloads() -> None:
    journal = contracts.documents()["asyncapi/journal.json"]
    channels = {c["address"] for c in journal["channels"].values()}
    assert "flow.journal.entry.created.v1" in channels
    assert "flowrpc.journal.entry.create" in channels
    openapi = contracts.documents()["openapi.json"]
    assert "/v1/journal/entries" in openapi["paths"]
