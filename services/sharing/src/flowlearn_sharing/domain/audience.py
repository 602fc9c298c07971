"""Who may see what. Every read, list, search and feed goes through these rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AudienceKind = Literal["org", "team", "community", "people"]


class AudienceNotAllowed(Exception):
    pass


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    ids: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> Audience:
        """``value`` was validated by the contract's pattern already."""
        if value == "org":
            return cls("org")
        kind, _, rest = value.partition(":")
        ids = tuple(dict.fromkeys(part.strip() for part in rest.split(",") if part.strip()))
        if kind not in ("team", "community", "people") or not ids:
            raise ValueError(f"not an audience: {value!r}")
        return cls(kind, ids)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return "org" if self.kind == "org" else f"{self.kind}:{','.join(self.ids)}"


@dataclass(frozen=True)
class Viewer:
    """The caller, with the groups that decide what they may see."""

    user_id: str
    roles: frozenset[str] = frozenset()
    team_ids: frozenset[str] = frozenset()
    lead_team_ids: frozenset[str] = frozenset()
    community_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def can_see(self, audience: Audience, author_id: str) -> bool:
        """Roles grant no reading rights: an admin outside team A does not see team A's posts."""
        if author_id == self.user_id:
            return True
        if audience.kind == "org":
            return True
        if audience.kind == "team":
            return bool(self.team_ids.intersection(audience.ids))
        if audience.kind == "community":
            return bool(self.community_ids.intersection(audience.ids))
        return self.user_id in audience.ids

    def check_can_address(self, audience: Audience) -> None:
        """One may share with the org, with named people, and with groups one belongs to."""
        if audience.kind == "team" and not set(audience.ids) <= self.team_ids:
            raise AudienceNotAllowed("you can only share with teams you belong to")
        if audience.kind == "community" and not set(audience.ids) <= self.community_ids:
            raise AudienceNotAllowed("you can only share with communities you have joined")
