"""``flowlearn dlq list|replay``: inspect dead letters and send them back to their subject."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import nats
import typer
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    DLQ_HEADER_CONSUMER,
    DLQ_HEADER_DELIVERIES,
    DLQ_HEADER_ERROR,
    DLQ_HEADER_SUBJECT,
)
from nats.js.errors import NotFoundError

app = typer.Typer(help="Dead letters: events a consumer could not handle.", no_args_is_help=True)

NatsUrl = Annotated[str, typer.Option(envvar="FLOWLEARN_NATS_URL")]


async def _list(url: str, limit: int) -> list[tuple[int, dict[str, str], bytes]]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(DEAD_LETTER_STREAM)
        letters: list[tuple[int, dict[str, str], bytes]] = []
        seq = info.state.first_seq
        while seq <= info.state.last_seq and len(letters) < limit:
            try:
                msg = await js.get_msg(DEAD_LETTER_STREAM, seq)
            except NotFoundError:
                seq += 1
                continue
            letters.append((seq, dict(msg.headers or {}), msg.data or b""))
            seq += 1
        return letters
    finally:
        await nc.close()


@app.command("list")
def list_letters(
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Show dead letters: sequence, consumer, original subject, attempts and error."""
    letters = asyncio.run(_list(nats_url, limit))
    if not letters:
        typer.echo("no dead letters")
    for seq, headers, data in letters:
        fields = [
            str(seq),
            headers.get(DLQ_HEADER_CONSUMER, "?"),
            headers.get(DLQ_HEADER_SUBJECT, "?"),
            f"attempts={headers.get(DLQ_HEADER_DELIVERIES, '?')}",
            headers.get(DLQ_HEADER_ERROR, ""),
            f"{len(data)} bytes",
        ]
        typer.echo("\t".join(fields))


async def _replay(url: str, sequences: list[int]) -> int:
    nc = await nats.connect(url)
    replayed = 0
    try:
        js = nc.jetstream()
        for seq in sequences:
            msg = await js.get_msg(DEAD_LETTER_STREAM, seq)
            headers = msg.headers or {}
            subject = headers[DLQ_HEADER_SUBJECT]
            # A fresh message id: the original one may still sit in the duplicate window.
            await js.publish(
                subject, msg.data or b"", headers={"Nats-Msg-Id": f"replay:{seq}:{os.getpid()}"}
            )
            await js.delete_msg(DEAD_LETTER_STREAM, seq)
            replayed += 1
    finally:
        await nc.close()
    return replayed


@app.command()
def replay(
    sequences: Annotated[list[int], typer.Argument(help="Dead-letter sequence numbers.")],
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Publish dead letters again on their original subject and remove them from the list."""
    typer.echo(f"replayed {asyncio.run(_replay(nats_url, sequences))}")
