#!/usr/bin/env bash
# Runs the fan-out benchmark (tests/bench/fanout.py) inside a private network namespace
# with a veth address, like the tests. Extra arguments go to `fanout.py run`.
# Heavy: run it as `flock /tmp/vb-heavy.lock bash scripts/bench.sh ...` on shared machines.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/netns.sh .venv/bin/python tests/bench/fanout.py run "$@"
