#!/usr/bin/env bash
# Installs what venuebridge needs into ./.venv (Python >= 3.11). With --dev, also the
# test tools, the Debian packages the tests drive (Chromium, redis-server, coturn, Caddy,
# nginx) and the pinned TypeScript (package-lock.json) that type-checks the pages' JavaScript.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [ "${1:-}" = "--dev" ]; then
    extras="[dev]"
    # fonts-wqy-zenhei: a CJK font, so Chromium in the browser tests renders Chinese text.
    # nftables: the ICE-TCP browser test drops UDP in its network namespace.
    # caddy: the reverse proxy of docker/compose.yaml, run by tests/deploy/test_stack.py.
    # nginx: the HTTP cache (proxy_cache) the HLS cache test puts in front of the origin.
    packages=(chromium redis-server coturn iproute2 nftables fonts-wqy-zenhei caddy nginx)
    missing=()
    for package in "${packages[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ "${CI:-}" = "true" ] || [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${packages[@]}" >/dev/null
    fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    # Debian splits venv out of python3; as root we can add it.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e ".${extras}"

# The native send path (streaming/native/): a C compiler and the Python headers build it.
# Without them the server still runs, sending packet by packet (media.native_send).
if ! command -v gcc >/dev/null 2>&1 || [ ! -f "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            gcc libc6-dev python3-dev >/dev/null
    fi
fi
if ! .venv/bin/python -m streaming.native.build >/dev/null; then
    echo "setup: the native send path was not built; media goes out packet by packet" >&2
fi

if [ "${1:-}" = "--dev" ]; then
    # tsc only checks web/static (no build step); node and npm come from Debian if missing.
    if ! command -v npm >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    npm ci --no-audit --no-fund --loglevel=error
fi
