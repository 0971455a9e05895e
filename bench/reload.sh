#!/usr/bin/env bash
# Reload benchmark: for the sample, the time from a save to the first response with the new code,
# next to a plain `go build` of the same package after the same edit, in one run.
# Prints both medians and the difference. Usage: bench/reload.sh [rounds, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/devserver" ./cmd/devserver
for copy in served plain; do
  mkdir -p "$tmp/$copy/sample"
  cp go.mod go.sum config.yaml "$tmp/$copy/"
  cp sample/main.go "$tmp/$copy/sample/"
done
"$tmp/devserver" run --port 18200 --no-lambda --project-dir "$tmp/served" >/dev/null 2>"$tmp/devserver.log" &
for _ in $(seq 100); do curl -sf http://127.0.0.1:18200/ >/dev/null && break; sleep 0.2; done
(cd "$tmp/plain" && go build -tags lambda.norpc -trimpath -o "$tmp/plain.bin" ./sample) # warm the cache

now() { date +%s%N; }
edit() { sed -i "s/\"hello\":\"[a-z0-9]*\"/\"hello\":\"$2\"/" "$1/sample/main.go"; }
reload=() plain=()
for i in $(seq "$rounds"); do
  sleep 0.5
  word="round$i"
  t0=$(now); edit "$tmp/served" "$word"
  until curl -sf http://127.0.0.1:18200/ | grep -q "$word"; do :; done
  reload+=($(( ($(now) - t0) / 1000000 )))

  edit "$tmp/plain" "$word"
  t0=$(now); (cd "$tmp/plain" && go build -tags lambda.norpc -trimpath -o "$tmp/plain.bin" ./sample)
  plain+=($(( ($(now) - t0) / 1000000 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
r=$(median "${reload[@]}") p=$(median "${plain[@]}")
echo "save -> first new response (ms): ${reload[*]}"
echo "plain go build after the edit (ms): ${plain[*]}"
awk -v r="$r" -v p="$p" 'BEGIN {printf "median: reload %s ms, go build %s ms, reload adds %s ms\n", r, p, r - p}'
grep -c '^reload:' "$tmp/devserver.log" | sed 's/^/reload lines in the log: /'
