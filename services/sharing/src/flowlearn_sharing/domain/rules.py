"""Why a kudos, collection, gathering or experiment change was refused, in domain terms.
The service layer turns these into the problem the caller sees."""

from __future__ import annotations


class RuleBroken(Exception):
    pass


class NotPermitted(RuleBroken):
    """The caller may see the thing but not do this to it."""


class InvalidValue(RuleBroken):
    """A value is acceptable in form but not here (kudos to oneself, a start in the past)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class WrongState(RuleBroken):
    """The thing is not in a state that allows this (an ended gathering, a done experiment)."""
