"""Fault tests: each starts its own system (nats-server, SecantusDB, four services) on free
127.0.0.1 ports under a temporary directory, breaks part of it, and stops it at the end.
They run the same scenarios as ``make reliability``, smaller: ``FLOWLEARN_FAULT_WRITES``
(default 240) writes per scenario and ``FLOWLEARN_FAULT_NUDGES`` (default 200) due nudges."""

from __future__ import annotations

import os

import pytest

from reliability.scenarios import Size


@pytest.fixture(scope="session")
def size() -> Size:
    return Size(
        writes=int(os.environ.get("FLOWLEARN_FAULT_WRITES", "240")),
        nudges=int(os.environ.get("FLOWLEARN_FAULT_NUDGES", "200")),
    )
