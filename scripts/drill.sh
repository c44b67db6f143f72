#!/usr/bin/env bash
# The crew drill (scripts/crew_drill.py) inside a private network namespace, so WebRTC
# finds a host address and nothing leaves the machine. Needs `bash scripts/setup.sh --dev`.
# Arguments go to the drill, e.g. `bash scripts/drill.sh --redis`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec unshare -n bash -c '
    set -e
    ip link set lo up
    ip link add vb0 type veth peer name vb1
    ip addr add 10.99.0.1/24 dev vb0
    ip link set vb0 up
    ip link set vb1 up
    exec .venv/bin/python scripts/crew_drill.py "$@"
' drill "$@"
