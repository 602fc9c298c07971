"""Keyset cursors over (a datetime field, _id), either direction: a page continues after
the last item shown, so items inserted meanwhile neither repeat nor go missing."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from flowlearn_sharing.adapters.post_repository import BadCursor

Document = dict[str, Any]


def encode(key: datetime, item_id: str) -> str:
    raw = json.dumps({"k": key.isoformat(), "i": item_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after(cursor: str, field: str, *, descending: bool) -> Document:
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        key, item_id = datetime.fromisoformat(data["k"]), str(data["i"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("the cursor is not one this API returned") from exc
    beyond = "$lt" if descending else "$gt"
    return {"$or": [{field: {beyond: key}}, {field: key, "_id": {beyond: item_id}}]}


def sort(field: str, *, descending: bool) -> list[tuple[str, int]]:
    direction = -1 if descending else 1
    return [(field, direction), ("_id", direction)]


def page(docs: list[Document], limit: int, field: str) -> tuple[list[Document], str | None]:
    """``docs`` were fetched with ``limit + 1``: the extra one says there is more."""
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, encode(docs[-1][field], docs[-1]["_id"]) if more and docs else None
