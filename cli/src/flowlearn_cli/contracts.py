"""Generated API contracts, committed under docs/: the gateway's OpenAPI and each service's
AsyncAPI. ``python -m flowlearn_cli.contracts write`` regenerates them; ``check`` fails when
the code and the committed documents have drifted apart."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _asyncapi(factory: Callable[[], Any]) -> dict[str, Any]:
    spec = factory().to_specification()
    return json.loads(spec.to_json())  # type: ignore[no-any-return]


def documents() -> dict[str, dict[str, Any]]:
    from flowlearn_gateway.entrypoints.http.app import create_app
    from flowlearn_gateway.settings import GatewaySettings
    from flowlearn_journal.bootstrap import asyncapi as journal
    from flowlearn_nudges.bootstrap import asyncapi as nudges
    from flowlearn_sharing.bootstrap import asyncapi as sharing

    openapi = create_app(GatewaySettings(env="dev")).openapi()
    docs = {"openapi.json": openapi}
    for name, factory in (("journal", journal), ("nudges", nudges), ("sharing", sharing)):
        document = _asyncapi(factory)
        document.pop("servers", None)  # the local URL is not part of the contract
        docs[f"asyncapi/{name}.json"] = document
    return docs


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write(target: Path = DOCS) -> list[Path]:
    written = []
    for name, document in documents().items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document))
        written.append(path)
    return written


def drifted(target: Path = DOCS) -> list[str]:
    stale = []
    for name, document in documents().items():
        path = target / name
        if not path.exists() or path.read_text() != render(document):
            stale.append(name)
    return stale


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "write":
        for path in write():
            print(f"wrote {path}")
    elif stale := drifted():
        print(f"out of date: {', '.join(stale)}; run `make docs`", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
