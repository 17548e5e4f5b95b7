"""`python -m monitor.standin --scenario FILE [--port N] [--shift-time]`: the stand-in alone."""

from __future__ import annotations

import argparse
import sys

from monitor.standin.discovery import DiscoveryUnavailable
from monitor.standin.scenario import ScenarioError
from monitor.standin.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.standin", description=__doc__)
    parser.add_argument("--scenario", required=True, help="scenario file (YAML or JSON)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--shift-time", action="store_true", help="move timestamps by (wall clock - now)")
    args = parser.parse_args(argv)
    try:
        serve(args.scenario, args.port, args.shift_time)
    except (ScenarioError, DiscoveryUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
