"""Starts a node process for the topology tests, with in-process one-way delay.

    python -m tests.topology.launch --delay-ms 150 --delay-to 10.13.2.2 -- serve ARGS...

Installs ``tests.topology.delay`` (before anything creates a socket), then runs the
``venuebridge`` command line with the arguments after ``--``. Without ``--delay-to`` it
is plain ``python -m web``.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str]) -> int:
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--delay-to", action="append", default=[])
    args = parser.parse_args(argv[:split])
    if args.delay_ms < 0 or args.delay_ms > 10_000:
        parser.error("--delay-ms must be 0 to 10000")
    if args.delay_to and args.delay_ms:
        from tests.topology import delay

        delay.install(args.delay_ms / 1000, args.delay_to)
    from web.cli import main as venuebridge

    return venuebridge(argv[split + 1 :])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
