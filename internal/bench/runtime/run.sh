#!/bin/sh
# Runs the runtime benchmarks: generated handler and client against
# connect-go's own generated code (and grpc-go, for reference), per protocol
# and kind, -count=10, then compares them with benchstat (pinned in
# tools/go.mod). Run from anywhere in the repository:
#
#   internal/bench/runtime/run.sh [output directory]
#
# Environment: COUNT (default 10), BENCHTIME (default 500ms), BENCH (default
# "^Benchmark(Handler|Client)$", a -bench pattern). BenchmarkServer has its
# own script, server.sh.
set -eu
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
out=${1:-$root/internal/bench/runtime/results}
mkdir -p "$out"
count=${COUNT:-10}
benchtime=${BENCHTIME:-500ms}
bench=${BENCH:-'^Benchmark(Handler|Client)$'}

{
	echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# cores: $(nproc), $(go version)"
	echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/env.txt"
cat "$out/env.txt"

# go test -count=N would repeat each benchmark N times in a row; instead the
# whole set runs N times, so that every round of connect-go is followed at
# once by the same round of the others, and load drifts hit them alike.
: >"$out/bench.txt"
for i in $(seq "$count"); do
	echo "# round $i of $count" >&2
	go test -run '^$' -timeout 0 -bench "$bench" -benchmem -count=1 -benchtime="$benchtime" \
		./internal/bench/runtime/ | tee -a "$out/bench.txt"
done

benchstat() { go tool -modfile=tools/go.mod benchstat "$@"; }
# One row per protocol and kind, one column per implementation; connect-go is
# the baseline of every ratio.
benchstat -col /impl -filter '.name:Handler' "$out/bench.txt" | tee "$out/handler.txt"
benchstat -col /impl -filter '.name:Client' "$out/bench.txt" | tee "$out/client.txt"
# The median of the paired ratios, round by round.
go run ./internal/bench/runtime/paired "$out/bench.txt" | tee "$out/paired.txt"
