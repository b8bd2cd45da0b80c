#!/bin/sh
# Runs the runtime benchmarks: generated handler and client against
# connect-go's own generated code (and grpc-go, for reference), per protocol
# and kind, -count=10, then compares them with benchstat (pinned in
# tools/go.mod). Run from anywhere in the repository:
#
#   internal/bench/runtime/run.sh [output directory]
#
# Environment: COUNT (default 10), BENCHTIME (default 500ms), BENCH (default
# ".", a -bench pattern).
set -eu
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
out=${1:-$root/internal/bench/runtime/results}
mkdir -p "$out"
count=${COUNT:-10}
benchtime=${BENCHTIME:-500ms}
bench=${BENCH:-.}

{
	echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# cores: $(nproc), $(go version)"
	echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/env.txt"
cat "$out/env.txt"

# -count runs every benchmark function count times; within one run the
# implementations of a protocol and kind alternate, so load drifts hit them
# alike.
go test -run '^$' -timeout 0 -bench "$bench" -benchmem -count="$count" -benchtime="$benchtime" \
	./internal/bench/runtime/ | tee "$out/bench.txt"

benchstat() { go tool -modfile=tools/go.mod benchstat "$@"; }
# One row per protocol and kind, one column per implementation; connect-go is
# the baseline of every ratio.
benchstat -col /impl -filter '.name:Handler' "$out/bench.txt" | tee "$out/handler.txt"
benchstat -col /impl -filter '.name:Client' "$out/bench.txt" | tee "$out/client.txt"
