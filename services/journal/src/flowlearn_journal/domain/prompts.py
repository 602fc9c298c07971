"""Guided prompts, one or more per kind of entry."""

from __future__ import annotations

from flowlearn_shared.contracts.journal import EntryKind, Prompt

PROMPTS: list[Prompt] = [
    Prompt(kind=EntryKind.REFLECTION, text="What have you learned today?"),
    Prompt(kind=EntryKind.REFLECTION, text="What would you do differently next time?"),
    Prompt(kind=EntryKind.LEARNED, text="What did you learn, and where will you use it?"),
    Prompt(kind=EntryKind.MISTAKE, text="What went wrong, and what will you do differently?"),
    Prompt(kind=EntryKind.GEM, text="What gem did you discover, and why is it worth keeping?"),
    Prompt(kind=EntryKind.ACHIEVEMENT, text="Where were you at your best?"),
    Prompt(
        kind=EntryKind.INTERACTION, text="Who did you learn from today, and what did they show you?"
    ),
    Prompt(kind=EntryKind.EXPERIMENT, text="What did you try, what happened, and what is next?"),
]
