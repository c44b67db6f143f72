#!/usr/bin/env bash
# Runs a command inside a private network namespace: loopback plus a veth pair whose end
# holds 10.99.0.1. aioice skips loopback addresses, so WebRTC peers find 10.99.0.1 as
# their host candidate, and nothing the command sends can leave the machine.
# Usage: bash scripts/netns.sh COMMAND [ARGS...]
set -euo pipefail
exec unshare -n bash -c '
    set -e
    ip link set lo up
    ip link add vb0 type veth peer name vb1
    ip addr add 10.99.0.1/24 dev vb0
    ip link set vb0 up
    ip link set vb1 up
    exec "$@"
' netns "$@"
