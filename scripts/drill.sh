#!/usr/bin/env bash
# The crew drill (scripts/crew_drill.py) inside a private network namespace, so WebRTC
# finds a host address and nothing leaves the machine. Needs `bash scripts/setup.sh --dev`.
# Arguments go to the drill, e.g. `bash scripts/drill.sh --redis`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/netns.sh .venv/bin/python scripts/crew_drill.py "$@"
