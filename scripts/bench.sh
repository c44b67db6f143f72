#!/usr/bin/env bash
# Runs the fan-out benchmark (tests/bench/fanout.py) inside a private network namespace
# with a veth address, like the tests. Extra arguments go to `fanout.py run`.
# The benchmark measures Janus 1.1.2 (Debian's package) in the same run as its anchor:
# installed here when missing if we are root (benchmark only, never CI); otherwise the
# benchmark says how to install it, or run it with `--servers venuebridge`.
# Heavy: run it as `flock /tmp/vb-heavy.lock bash scripts/bench.sh ...` on shared machines.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x /usr/bin/janus && "$(id -u)" == 0 && " $* " != *" --servers venuebridge "* ]]; then
    apt-get install -y --no-install-recommends janus
fi
exec bash scripts/netns.sh .venv/bin/python tests/bench/fanout.py run "$@"
