#!/usr/bin/env bash
# Runs the fan-out benchmark (tests/bench/fanout.py) inside a private network namespace
# with a veth address, like the tests. Extra arguments go to `fanout.py run`.
# Heavy: run it as `flock /tmp/vb-heavy.lock bash scripts/bench.sh ...` on shared machines.
set -euo pipefail
cd "$(dirname "$0")/.."
exec unshare -n bash -c '
    set -e
    ip link set lo up
    ip link add vb0 type veth peer name vb1
    ip addr add 10.99.0.1/24 dev vb0
    ip link set vb0 up
    ip link set vb1 up
    exec .venv/bin/python tests/bench/fanout.py run "$@"
' bench "$@"
