#!/usr/bin/env bash
# Runs venuebridge on the embedded default: the reference event, SQLite and the
# in-process bus in ./data, nothing else to start. Extra arguments go to `venuebridge serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/venuebridge serve "$@"
