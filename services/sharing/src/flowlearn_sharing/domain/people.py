"""Profiles and teams: defaults, rules for who manages whom."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.people import ProfileUpdate, QuietHours, TeamRole, WorkingHours
from flowlearn_shared.events import (
    CommunityMemberJoined,
    CommunityMemberLeft,
    CommunityMembershipData,
    ProfileFacts,
    ProfileUpdated,
    QuietHoursData,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamMembershipData,
    WorkingHoursData,
)

SOURCE = "flowlearn/sharing"
TEAM_CREATOR_ROLES = frozenset({"admin", "manager"})


class NotAllowed(Exception):
    pass


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str
    timezone: str
    working_hours: WorkingHours
    quiet_hours: QuietHours | None
    roles: list[str]
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    def facts(self) -> ProfileFacts:
        quiet = self.quiet_hours
        return ProfileFacts(
            user_id=self.user_id,
            display_name=self.display_name,
            timezone=self.timezone,
            working_hours=WorkingHoursData(**self.working_hours.model_dump()),
            quiet_hours=QuietHoursData(**quiet.model_dump()) if quiet else None,
        )


def new_profile(
    user_id: str, display_name: str | None, timezone: str, roles: list[str], now: datetime
) -> Profile:
    """Defaults: the token's zone (else UTC), Mon-Fri 09:00-17:00, no quiet hours."""
    profile = Profile(
        user_id=user_id,
        display_name=display_name or user_id,
        timezone=timezone,
        working_hours=WorkingHours(),
        quiet_hours=None,
        roles=roles,
        created_at=now,
        updated_at=now,
    )
    profile.events.append(
        ProfileUpdated(source=SOURCE, subject=user_id, time=now, data=profile.facts())
    )
    return profile


def update_profile(profile: Profile, changes: ProfileUpdate, now: datetime) -> Profile:
    values: dict[str, Any] = {}
    for name in changes.model_fields_set:
        value = getattr(changes, name)
        if value is None and name != "quiet_hours":
            continue  # only quiet hours can be cleared
        values[name] = value
    updated = replace(profile, **values, updated_at=now, events=[])
    updated.events.append(
        ProfileUpdated(source=SOURCE, subject=profile.user_id, time=now, data=updated.facts())
    )
    return updated


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    members: dict[str, TeamRole]
    created_by: str
    created_at: datetime

    def is_lead(self, user_id: str) -> bool:
        return self.members.get(user_id) == TeamRole.LEAD

    def is_member(self, user_id: str) -> bool:
        return user_id in self.members


def check_can_create_team(roles: list[str]) -> None:
    if not TEAM_CREATOR_ROLES.intersection(roles):
        raise NotAllowed("only managers and admins create teams")


def check_can_manage_members(team: Team, user_id: str, roles: list[str]) -> None:
    if "admin" not in roles and not team.is_lead(user_id):
        raise NotAllowed("only the team's leads and admins manage its members")


def membership_event(
    team: Team, user_id: str, role: TeamRole, changed_by: str, now: datetime, added: bool
) -> TeamMemberAdded | TeamMemberRemoved:
    data = TeamMembershipData(
        team_id=team.id,
        team_name=team.name,
        user_id=user_id,
        role=role.value,
        changed_by=changed_by,
    )
    if added:
        return TeamMemberAdded(source=SOURCE, subject=user_id, time=now, data=data)
    return TeamMemberRemoved(source=SOURCE, subject=user_id, time=now, data=data)


def community_event(
    community: dict[str, Any], user_id: str, now: datetime, joined: bool
) -> CommunityMemberJoined | CommunityMemberLeft:
    """Who is in a community, for services that reach its members (nudge campaigns)."""
    data = CommunityMembershipData(
        community_id=community["_id"], community_name=community["name"], user_id=user_id
    )
    if joined:
        return CommunityMemberJoined(source=SOURCE, subject=user_id, time=now, data=data)
    return CommunityMemberLeft(source=SOURCE, subject=user_id, time=now, data=data)
