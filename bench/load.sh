#!/usr/bin/env bash
# Load benchmark: full round trips through devserver's gateway to warm sample instances, next to a
# plain net/http server answering the same JSON, both measured in this run with wrk on loopback.
# Prints requests/s, p50 and p99 for each at 1 and 32 clients, the ratios, and devserver's RSS.
# Usage: bench/load.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/devserver" ./cmd/devserver
go build -o "$tmp/plain" ./bench/plain
go build -o "$tmp/exchange" ./bench/exchange
go build -o "$tmp/sample" ./sample

"$tmp/plain" -addr 127.0.0.1:18100 &
# The terminal gets START/END/REPORT and an access line per request; send them where a terminal
# would not slow the measure.
"$tmp/devserver" run --port 18000 --no-lambda --max-instances 32 >/dev/null 2>"$tmp/devserver.log" &
dspid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18000/ >/dev/null && curl -sf http://127.0.0.1:18100/ >/dev/null && break; sleep 0.2; done

rss() { awk '/VmRSS/ {print int($2/1024)}' /proc/$dspid/status; }
echo "devserver idle RSS: $(rss) MB"

# CPU ticks (1/100 s) used so far by the given processes.
ticks() { local t=0 p; for p in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo "$t"; }

# run URL CLIENTS -> "rps p50ms p99ms errors"
run() {
  local out
  out=$(wrk -t $(( $2 < 2 ? 1 : 2 )) -c "$2" -d "${secs}s" --latency "$1")
  echo "$out" >"$tmp/last.wrk"
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  echo "$rps $p50 $p99 ${errs:-none}"
}
# warm instances for 32 clients
wrk -t2 -c32 -d2s http://127.0.0.1:18000/ >/dev/null

printf '%-10s %-8s %12s %10s %10s  %s\n' target clients req/s p50 p99 errors
for c in 1 32; do
  read -r prps pp50 pp99 perr <<<"$(run http://127.0.0.1:18100/ $c)"
  if [ "$c" = 1 ]; then plain1=$prps; else plain32=$prps; fi
  kids=$(pgrep -P $dspid | tr '\n' ' ')
  d0=$(ticks $dspid); k0=$(ticks $kids)
  read -r drps dp50 dp99 derr <<<"$(run http://127.0.0.1:18000/ $c)"
  d1=$(ticks $dspid); k1=$(ticks $kids)
  n=$(awk '/requests in/ {print $1}' "$tmp/last.wrk")
  printf '%-10s %-8s %12s %10s %10s  %s\n' net/http "$c" "$prps" "$pp50" "$pp99" "$perr"
  printf '%-10s %-8s %12s %10s %10s  %s\n' devserver "$c" "$drps" "$dp50" "$dp99" "$derr"
  awk -v d="$drps" -v p="$prps" -v c="$c" 'BEGIN {printf "ratio at %s clients: %.1f%% of net/http\n", c, 100*d/p}'
  awk -v n="$n" -v d=$(( d1 - d0 )) -v k=$(( k1 - k0 )) \
    'BEGIN {printf "CPU per request: devserver %.0f us, function instances %.0f us\n", d * 10000 / n, k * 10000 / n}'
done
echo "devserver RSS after the runs above: $(rss) MB"
# The function side's floor: the sample, and a bare Go client, against a Runtime API that costs
# next to nothing, with the ceilings they set on the ratios above.
"$tmp/exchange" -function "$tmp/sample" -baseline "$plain1" -baseline32 "$plain32"
"$tmp/exchange" -baseline "$plain1" -baseline32 "$plain32"
# Growth: keep loading until at least 100,000 more requests, printing RSS as it goes.
total=0
while [ "$total" -lt 100000 ]; do
  n=$(wrk -t2 -c32 -d"${secs}s" http://127.0.0.1:18000/ | awk '/requests in/ {print $1}')
  total=$(( total + n ))
  echo "after $total more requests: devserver RSS $(rss) MB"
done
sleep 2
echo "devserver idle RSS at the end: $(rss) MB"
