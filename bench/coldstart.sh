#!/usr/bin/env bash
# Cold-start build benchmark: an app of N small aws-lambda-go functions sharing a local package,
# built on an empty build cache three ways, each with a fresh GOCACHE (the module cache is shared,
# and the builds run offline): (a) `go build -tags lambda.norpc -trimpath ./...`, the baseline; (b) gobuild.Build for every
# function at once, as devserver run did; (c) gobuild.BuildAll. Prints, for each, wall and CPU
# seconds, their ratios to the baseline, and the load average it started under: other work on the
# machine stretches wall time, not CPU time. Usage: bench/coldstart.sh [functions, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
limit=${COLDSTART_LIMIT:-1800} # seconds any one build may take
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The builds below run with GOPROXY=off: the module cache must already hold aws-lambda-go.
go mod download github.com/aws/aws-lambda-go
go build -o "$tmp/coldstart" ./bench/coldstart

app=$tmp/app
mkdir -p "$app/shared"
version=$(awk '$1 == "github.com/aws/aws-lambda-go" {print $2}' go.mod)
printf 'module example.com/coldapp\n\ngo 1.26\n\nrequire github.com/aws/aws-lambda-go %s\n' "$version" >"$app/go.mod"
cp go.sum "$app/go.sum"
cat >"$app/shared/shared.go" <<'GO'
// Package shared is what every function of the app imports.
package shared

import (
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
)

// Reply answers with v as JSON.
func Reply(v any) (events.APIGatewayProxyResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return events.APIGatewayProxyResponse{StatusCode: 500}, err
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: string(b)}, nil
}
GO
pkgs=()
for i in $(seq -w 1 "$n"); do
  mkdir "$app/fn$i"
  cat >"$app/fn$i/main.go" <<GO
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"example.com/coldapp/shared"
)

func main() {
	lambda.Start(func(_ context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return shared.Reply(map[string]string{"function": "fn$i", "path": req.Path})
	})
}
GO
  pkgs+=("./fn$i")
done

export GOFLAGS= GOPROXY=off
# measure LABEL COMMAND... runs COMMAND in the app on a fresh, empty GOCACHE and records its wall and
# CPU (user + sys, children included) seconds, and the load average it started under. The CPU time
# is what other work on the machine does not inflate; it shows a compile repeated per function.
labels=() wall=() cpu=() load=()
measure() {
  local label=$1 cache t
  shift
  cache=$(mktemp -d "$tmp/gocache.XXXX")
  load+=("$(cut -d' ' -f1 /proc/loadavg)")
  if ! { TIMEFORMAT='%R %U %S'; time (cd "$app" && GOCACHE=$cache timeout "$limit" "$@" >"$tmp/log" 2>&1); } 2>"$tmp/time"; then
    echo "$label failed (or took over $limit s):" >&2
    cat "$tmp/log" >&2
    exit 1
  fi
  rm -rf "$cache"
  read -r r u s <"$tmp/time"
  labels+=("$label") wall+=("$r") cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
}
echo "$n functions, $(nproc) cores, $(go version | cut -d' ' -f3)"
# The baseline takes gobuild's flags, so that it compiles the same packages the same way.
measure "(a) go build ./... (baseline, same flags)" go build -tags lambda.norpc -trimpath ./...
measure "(c) gobuild.BuildAll" "$tmp/coldstart" -mode all -out "$tmp/out-all" "${pkgs[@]}"
measure "(b) gobuild.Build per function, in parallel" "$tmp/coldstart" -mode parallel -out "$tmp/out-parallel" "${pkgs[@]}"
for f in "${pkgs[@]}"; do
  test -x "$tmp/out-all/${f#./}/bootstrap" || { echo "BuildAll wrote no binary for $f" >&2; exit 1; }
done
printf '%-44s %9s %7s %9s %7s %6s\n' "" "wall s" "ratio" "CPU s" "ratio" "load"
for i in "${!labels[@]}"; do
  awk -v l="${labels[$i]}" -v w="${wall[$i]}" -v c="${cpu[$i]}" -v w0="${wall[0]}" -v c0="${cpu[0]}" -v ld="${load[$i]}" \
    'BEGIN {printf "%-44s %9.1f %6.2fx %9.1f %6.2fx %6s\n", l, w, w / w0, c, c / c0, ld}'
done
