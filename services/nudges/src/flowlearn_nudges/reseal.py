"""``flowlearn-nudges-reseal``: seal every stored channel credential under the current
destinations key, after a key rotation or for values stored before sealing. Run it once
with the new key in ``FLOWLEARN_NUDGES_DESTINATIONS_KEY`` and the old ones in
``FLOWLEARN_NUDGES_DESTINATIONS_PREVIOUS_KEYS``; once it reports nothing unopenable, the old
keys can go. Safe to run again and while the service runs.
"""

from __future__ import annotations

import asyncio
import json
import sys

from flowlearn_shared.mongo import make_client

from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.bootstrap import secret_box
from flowlearn_nudges.settings import NudgesSettings


async def reseal(settings: NudgesSettings) -> int:
    mongo = make_client(settings.mongodb_uri, "flowlearn-nudges-reseal")
    try:
        people = PeopleRepository(mongo[settings.database], secret_box(settings))
        report = await people.reseal()
    finally:
        await mongo.close()
    print(
        json.dumps(
            {
                "people": report.people,
                "resealed": report.resealed,
                "unopenable": report.unopenable,
            }
        )
    )
    # Unopenable values need a key that was not given: the old keys must stay until then.
    return 1 if report.unopenable else 0


def main() -> None:
    sys.exit(asyncio.run(reseal(NudgesSettings())))


if __name__ == "__main__":
    main()
