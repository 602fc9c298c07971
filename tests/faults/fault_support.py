"""What the fault tests share."""

from __future__ import annotations

from reliability.checks import Outcome


def assert_kept(outcome: Outcome) -> None:
    """Every expectation of the scenario held; the message tells what was seen."""
    seen = "\n".join(f"  - {note}" for note in outcome.notes)
    failed = "\n".join(f"  * {failure}" for failure in outcome.failures)
    assert outcome.ok, f"{outcome.fault}:\n{failed}\nseen:\n{seen}"
