#!/usr/bin/env bash
# Cold-compile cost of each direct dependency of ./cmd/devserver (see bench/DEPS.md).
# Every build uses a fresh, empty GOCACHE (the module cache is kept, GOPROXY=off: no network), so
# it pays for the standard library too. Each target is a tiny main that imports the "floor" (the
# standard-library packages devserver imports) plus one dependency's packages that devserver uses;
# its cost minus the floor's is what the dependency adds. Rounds are interleaved so that drift in
# machine load hits every target alike.
# Usage: [MODE=cold|incr] [OUT=dir] bench/deps/cold.sh [rounds, default 2] [targets...]
# Output: TSV on stdout; binaries (and -debug-trace files of cold devserver builds) in $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
shift || true

floor='archive/zip bufio bytes cmp compress/flate context crypto/md5 crypto/rand crypto/sha256
encoding/base64 encoding/hex encoding/json errors fmt go/build hash/fnv io io/fs log/slog maps math
mime net net/http net/textproto net/url os os/exec os/signal path/filepath regexp slices strconv
strings sync sync/atomic syscall text/tabwriter time unicode unsafe'

declare -A deps=(
	[floor]=''
	[viper]='github.com/spf13/viper'
	[cobra]='github.com/spf13/cobra'
	[mux]='github.com/gorilla/mux'
	[fsnotify]='github.com/fsnotify/fsnotify'
	[events]='github.com/aws/aws-lambda-go/events'
	[yaml]='go.yaml.in/yaml/v3'
	[errgroup]='golang.org/x/sync/errgroup'
	# goformation was measured here too, before it left go.mod (bench/DEPS.md); this name stays for
	# comparison with that table.
	[all-but-goformation]='github.com/spf13/viper github.com/spf13/cobra github.com/gorilla/mux github.com/fsnotify/fsnotify github.com/aws/aws-lambda-go/events go.yaml.in/yaml/v3 golang.org/x/sync/errgroup'
)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(devserver floor viper cobra mux fsnotify events yaml)

# The mains live in a temporary folder inside the module so they resolve devserver's go.mod/go.sum.
src=$(mktemp -d "$PWD/bench/deps/_src.XXXX")
OUT=${OUT:-$(mktemp -d)}
for t in "${!deps[@]}"; do
	mkdir -p "$src/$t"
	{
		echo "package main"
		echo "import ("
		for p in $floor ${deps[$t]}; do echo "	_ \"$p\""; done
		echo ")"
		echo "func main() {}"
	} >"$src/$t/main.go"
done
pkg() { if [ "$1" = devserver ]; then echo ./cmd/devserver; else echo "./bench/deps/$(basename "$src")/$1"; fi; }

export GOPROXY=off GOFLAGS=-buildvcs=false
caches=()
trap 'rm -rf "$src" "${caches[@]}"' EXIT
# measure ROUND TARGET CACHE MODE: one build of TARGET with GOCACHE=CACHE, one TSV line.
measure() {
	local r=$1 t=$2 cache=$3 mode=$4 load start end cpu n trace=()
	load=$(cut -d' ' -f1 /proc/loadavg)
	[ "$t" = devserver ] && [ "$mode" = cold ] && trace=(-debug-trace="$OUT/trace-$r.json")
	start=$(date +%s.%N)
	GOCACHE=$cache /usr/bin/time -f '%U %S' -o "$OUT/time" go build "${trace[@]}" -o "$OUT/$t" "$(pkg "$t")"
	end=$(date +%s.%N)
	cpu=$(awk '{print $1+$2}' "$OUT/time")
	n=$(GOCACHE=$cache go list -deps "$(pkg "$t")" | wc -l)
	printf '%s\t%s\t%s\t%.1f\t%.1f\t%s\t%s\t%s\n' "$r" "$mode" "$t" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$cpu" "$(stat -c %s "$OUT/$t")" "$n" "$load"
}

# MODE=cold (default): every target from an empty cache.
# MODE=incr: per round, build the floor from an empty cache (a cold floor sample), then build each
# target from a copy of that cache: the time is what the target adds on top of the floor.
printf 'round\tmode\ttarget\twall_s\tcpu_s\tbytes\tpkgs\tload1\n'
for r in $(seq "$rounds"); do
	if [ "${MODE:-cold}" = incr ]; then
		floorcache=$(mktemp -d); caches+=("$floorcache")
		measure "$r" floor "$floorcache" cold
		for t in "${targets[@]}"; do
			cache=$(mktemp -d); caches+=("$cache")
			cp -a "$floorcache/." "$cache/"
			measure "$r" "$t" "$cache" incr
			rm -rf "$cache"
		done
		rm -rf "$floorcache"
	else
		for t in "${targets[@]}"; do
			cache=$(mktemp -d); caches+=("$cache")
			measure "$r" "$t" "$cache" cold
			rm -rf "$cache"
		done
	fi
done
