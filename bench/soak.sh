#!/usr/bin/env bash
# Chaos soak: 32 clients on loopback for MINUTES (default 10) against an app whose functions answer,
# fail, panic, exit, time out, answer malformed or 7 MB bodies, sleep and print without end, while
# sources are saved and broken, the config edited, clients hang up and an instance is SIGSTOPped.
# Prints requests by outcome per route, disturbances, RSS, and leaks after shutdown; exits non-zero
# on any unexpected answer or leak. Usage: bench/soak.sh [minutes]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
exec go test -count=1 -timeout 0 -run '^TestSoak$' -v ./bench/soak -args \
  -soak.duration "${minutes}m" -soak.clients 32 -soak.every 3s
