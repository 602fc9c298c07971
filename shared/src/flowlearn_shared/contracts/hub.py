"""The learning hub's development sign-in: a token for a chosen person, in dev and test only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from flowlearn_shared.contracts.people import Id

Role = Literal["member", "manager", "curator", "admin"]


class DevTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Id = Field(description="The user id to sign in as, e.g. a demo person's `alice`")
    role: Role | None = Field(
        default=None, description="Defaults to the demo person's role, else `member`"
    )


class DevToken(BaseModel):
    access_token: str = Field(description="An HS256 JWT for `Authorization: Bearer`")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds the token is valid")
    user_id: str
    role: Role
    name: str | None = None
