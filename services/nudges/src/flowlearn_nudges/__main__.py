from __future__ import annotations

from flowlearn_shared.runtime import run_service

from flowlearn_nudges.bootstrap import run


def main() -> None:
    run_service(run())


if __name__ == "__main__":
    main()
