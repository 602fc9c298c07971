"""Create or update Flowlearn's JetStream streams and durable consumers from streams.json.

Run by an operator (as the NATS ``admin`` user) or by the one-shot ``nats-setup`` service of
docker-compose.yml before the services start. Applying the same file again changes nothing;
applying an edited file updates the streams and consumers in place (the server refuses
changes it cannot make in place, such as the storage type, and this script then fails).

    python deploy/nats/apply_streams.py --url nats://admin:PASSWORD@localhost:4222

Only nats-py is needed, which every Flowlearn service image already contains.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client

DEFAULT_FILE = Path(__file__).with_name("streams.json")
API = "$JS.API"
STREAM_NOT_FOUND = 10059


class ApplyError(RuntimeError):
    pass


def load(path: Path) -> dict[str, Any]:
    definitions = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(definitions, dict) or not isinstance(definitions.get("streams"), list):
        raise ApplyError(f"{path}: expected an object with a 'streams' list")
    return definitions


async def _api(nc: Client, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = json.dumps(body).encode() if body is not None else b""
    msg = await nc.request(subject, payload, timeout=5)
    reply: dict[str, Any] = json.loads(msg.data)
    return reply


def _raise_for(reply: dict[str, Any], what: str) -> None:
    if error := reply.get("error"):
        raise ApplyError(f"{what}: {error.get('description')} (error {error.get('err_code')})")


async def apply(nc: Client, definitions: dict[str, Any]) -> list[str]:
    """Apply every stream, then every consumer. Returns what was done, one line each."""
    done: list[str] = []
    for config in definitions["streams"]:
        name = config["name"]
        info = await _api(nc, f"{API}.STREAM.INFO.{name}")
        error = info.get("error")
        if error and error.get("err_code") == STREAM_NOT_FOUND:
            _raise_for(await _api(nc, f"{API}.STREAM.CREATE.{name}", config), f"create {name}")
            done.append(f"stream {name}: created")
        else:
            _raise_for(info, f"stream info {name}")
            _raise_for(await _api(nc, f"{API}.STREAM.UPDATE.{name}", config), f"update {name}")
            done.append(f"stream {name}: applied")
    for consumer in definitions.get("consumers", []):
        stream = consumer["stream"]
        config = consumer["config"]
        name = config["durable_name"]
        # No "action": create the consumer, or update it in place when it exists.
        request = {"stream_name": stream, "config": config}
        reply = await _api(nc, f"{API}.CONSUMER.CREATE.{stream}.{name}", request)
        _raise_for(reply, f"consumer {stream}/{name}")
        done.append(f"consumer {stream}/{name}: applied")
    return done


async def main_async(url: str, path: Path) -> list[str]:
    definitions = load(path)
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        return await apply(nc, definitions)
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
        help="NATS URL with the admin user's credentials (default: $NATS_URL)",
    )
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="stream definitions")
    args = parser.parse_args(argv)
    try:
        for line in asyncio.run(main_async(args.url, args.file)):
            print(line)
    except (ApplyError, OSError, nats.errors.Error) as exc:
        print(f"apply_streams: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
