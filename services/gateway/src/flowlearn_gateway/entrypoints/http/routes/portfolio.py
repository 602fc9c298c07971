"""``/v1/journal/portfolio``: the caller's own portfolio (evidence entries, kudos received,
accepted answers, experiments) as JSON, Markdown or xAPI statements. There is no way to
name another person: it is always the caller's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from flowlearn_shared.contracts.portfolio import (
    PortfolioExport,
    PortfolioFormat,
    PortfolioPublic,
    PortfolioRequest,
    XapiStatement,
)
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.domain.errors import BadServiceReply
from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/journal", tags=["journal"], responses=PROBLEM_RESPONSES)

MARKDOWN_MEDIA_TYPE = "text/markdown; charset=utf-8"
XAPI_VERSION = "1.0.3"
# Private data: no shared cache may keep it.
PRIVATE = {"Cache-Control": "private, no-store"}


def _attachment(filename: str) -> dict[str, str]:
    return {**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'}


@router.get(
    "/portfolio",
    response_model=None,
    summary="Export my portfolio",
    responses={
        200: {
            "model": PortfolioPublic | list[XapiStatement],
            "description": "`json`: the portfolio. `xapi`: a list of xAPI 1.0.3 statements. "
            "`md`: a Markdown file.",
            "content": {"text/markdown": {"schema": {"type": "string"}}},
        }
    },
)
async def export_portfolio(
    user: CurrentUser,
    rpc: Rpc,
    format_: Annotated[
        PortfolioFormat,
        Query(alias="format", description="`json` (default), `md` or `xapi`"),
    ] = PortfolioFormat.JSON,
) -> Response:
    """Entries marked as evidence and achievements, kudos received, answers the asker
    accepted, and the experiments the caller runs with what each stage taught.

    xAPI statements name the caller by account (this installation's address and the user
    id); statement ids are derived from what they record, so a second export of the same
    portfolio repeats the same ids."""
    request = PortfolioRequest(actor=user, format=format_)
    export = await rpc.request(RpcSubject.JOURNAL_PORTFOLIO, request, PortfolioExport)
    if format_ == PortfolioFormat.MARKDOWN and export.markdown is not None:
        return Response(
            export.markdown, media_type=MARKDOWN_MEDIA_TYPE, headers=_attachment("portfolio.md")
        )
    if format_ == PortfolioFormat.XAPI and export.statements is not None:
        statements = [s.model_dump(mode="json", exclude_none=True) for s in export.statements]
        headers = {**_attachment("portfolio-xapi.json"), "X-Experience-API-Version": XAPI_VERSION}
        return JSONResponse(statements, headers=headers)
    if format_ == PortfolioFormat.JSON and export.portfolio is not None:
        return JSONResponse(export.portfolio.model_dump(mode="json"), headers=PRIVATE)
    raise BadServiceReply("journal")
