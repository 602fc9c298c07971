"""``flowlearn``: development tokens, the local stack, dead letters."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from flowlearn_cli import dlq, servers
from flowlearn_cli.seed import DEMO_PEOPLE, seed
from flowlearn_cli.stack import Stack, StackConfig
from flowlearn_cli.tokens import ROLES, make_token

app = typer.Typer(help="Flowlearn command line.", no_args_is_help=True)
app.add_typer(dlq.app, name="dlq")


@app.command()
def token(
    user: Annotated[str, typer.Argument(help="The user id (the token's subject).")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")] = "member",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 8 * 3600,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone claim.")] = None,
) -> None:
    """Print a development JWT (HS256, secret from FLOWLEARN_JWT_SECRET)."""
    try:
        typer.echo(make_token(user, role, ttl, timezone))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


# Where `flowlearn dev` serves each service's /metrics (the gateway: on its HTTP port).
DEV_METRICS_PORTS = {"journal": 9101, "nudges": 9102, "sharing": 9103}


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@app.command()
def dev(
    data_dir: Annotated[Path, typer.Option(help="Where data and logs are kept.")] = Path(
        ".flowlearn"
    ),
    seed_demo: Annotated[bool, typer.Option("--seed/--no-seed")] = True,
) -> None:
    """Run NATS, SecantusDB and the four services locally until Ctrl-C."""
    config = StackConfig(
        data_dir=data_dir.resolve(),
        nats_port=_port("FLOWLEARN_DEV_NATS_PORT", 4222),
        mongo_port=_port("FLOWLEARN_DEV_MONGO_PORT", 27017),
        http_port=_port("FLOWLEARN_HTTP_PORT", 8000),
        env="dev",
        metrics_ports={
            name: _port(f"FLOWLEARN_DEV_{name.upper()}_METRICS_PORT", port)
            for name, port in DEV_METRICS_PORTS.items()
        },
    )
    stack = Stack(config)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        typer.echo(f"starting Flowlearn (data and logs in {config.data_dir}) ...")
        stack.start()
        if seed_demo:
            written = seed(config.gateway_url)
            if written:
                typer.echo(f"seeded {written} demo journal entries")
        _print_welcome(config)
        while not stopping:
            if (name := stack.first_exited()) is not None:
                typer.echo(
                    f"flowlearn-{name} stopped unexpectedly; see {config.data_dir}/logs/{name}.log"
                )
                break
            time.sleep(0.5)
    except servers.ServerStartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo("stopping ...")
        stack.stop()


def _print_welcome(config: StackConfig) -> None:
    people = ", ".join(f"{user} ({role})" for user, role, _, _ in DEMO_PEOPLE)
    metrics = ", ".join(config.metrics_url(name) for name in ["gateway", *config.metrics_ports])
    typer.echo(
        f"\nFlowlearn is running at {config.gateway_url}\n"
        f"  the hub:    {config.gateway_url}/hub/   (pick a demo person to sign in)\n"
        f"  API docs:   {config.gateway_url}/docs\n"
        f"  metrics:    {metrics}\n"
        f"  demo users: {people}\n"
        f"  a token:    .venv/bin/flowlearn token alice   (or --role manager|curator|admin)\n"
        f'  try:        curl -H "Authorization: Bearer $(.venv/bin/flowlearn token alice)" '
        f"{config.gateway_url}/v1/journal/entries\n"
        "Press Ctrl-C to stop every process.\n"
    )


if __name__ == "__main__":
    app()
