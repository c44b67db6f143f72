#!/usr/bin/env bash
# Sets up everything (Debian packages, the venv, node_modules) and runs the whole suite:
# lint, format, types (Python and the pages' JavaScript), then pytest inside a private network namespace so nothing leaves the machine.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev

echo "== ruff check"
.venv/bin/ruff check .
echo "== ruff format --check"
.venv/bin/ruff format --check .
echo "== mypy --strict"
.venv/bin/mypy config signaling streaming web
echo "== tsc --checkJs (web/static, tsconfig.json)"
node_modules/.bin/tsc -p .

echo "== pytest (private network namespace: lo + veth 10.99.0.1)"
# scripts/netns.sh: aioice skips loopback addresses, so the namespace gets a veth pair
# with a private address that exists only inside it (WebRTC host candidates).
exec bash scripts/netns.sh .venv/bin/pytest "$@"
