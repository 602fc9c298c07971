"""``/v1/nudges/campaigns``: a manager's (for a team they lead) or a curator's message sent
as a nudge to an audience, and its response counts: aggregates only, and none below five
recipients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from flowlearn_shared.contracts.campaigns import (
    CampaignCreate,
    CampaignCreated,
    CampaignStats,
    CreateCampaignRequest,
    GetCampaignRequest,
)
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import PROBLEM_RESPONSES, problem

PREFIX = "/v1/nudges/campaigns"
router = APIRouter(prefix=PREFIX, tags=["nudges"], responses=PROBLEM_RESPONSES)

CampaignId = Annotated[str, Path(min_length=1, max_length=200, description="The campaign's id")]


@router.post(
    "",
    response_model=CampaignCreated,
    status_code=201,
    summary="Send a campaign",
    responses={**problem(403, "Not a manager of this team, nor a curator or admin")},
)
async def create_campaign(
    campaign: CampaignCreate, user: CurrentUser, rpc: Rpc, response: Response
) -> CampaignCreated:
    """Managers send to the teams they lead (`team:<id>`, or `people:<ids>` in them);
    curators and admins also to any team, a community (`community:<id>`) or everyone
    (`org`). Each recipient gets it at `send_at` (default now) within their own working
    hours, outside quiet hours, unless they turned the type off."""
    request = CreateCampaignRequest(actor=user, campaign=campaign)
    created = await rpc.request(RpcSubject.NUDGES_CREATE_CAMPAIGN, request, CampaignCreated)
    response.headers["Location"] = f"{PREFIX}/{created.id}"
    return created


@router.get(
    "/{campaign_id}",
    response_model=CampaignStats,
    status_code=200,
    summary="A campaign's response counts",
    responses={**problem(404, "No such campaign of this user")},
)
async def get_campaign(campaign_id: CampaignId, user: CurrentUser, rpc: Rpc) -> CampaignStats:
    """Delivered, opened, acted, snoozed and dismissed counts, for the campaign's creator
    and admins. Below five recipients the counts are null and `suppressed` is true."""
    request = GetCampaignRequest(actor=user, campaign_id=campaign_id)
    return await rpc.request(RpcSubject.NUDGES_GET_CAMPAIGN, request, CampaignStats)
