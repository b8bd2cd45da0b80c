#!/bin/sh
# Runs BenchmarkREST: the same grpc-go implementation served over REST/JSON
# by polyrpc.Server, grpc-gateway v2 (in-process, and as a proxy to a
# grpc.Server for streams) and Vanguard (a transcoder to a grpc.Server),
# over HTTP/1.1 on loopback; COUNT rounds in a row (each round runs every
# implementation of a call one after the other), then compares them with
# benchstat (pinned in tools/go.mod), grpc-gateway first, and with the
# paired ratios. Run from anywhere in the repository:
#
#   internal/bench/rest/run.sh [output directory]
#
# Environment: COUNT (default 10), BENCHTIME (default 1s), BENCH (default
# ".", a -bench pattern within BenchmarkREST, such as "call=get").
set -eu
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
out=${1:-$root/internal/bench/rest/results}
mkdir -p "$out"
count=${COUNT:-10}
benchtime=${BENCHTIME:-1s}
bench=${BENCH:-.}

{
	echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# cores: $(nproc), $(go version)"
	echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/env.txt"
cat "$out/env.txt"

(cd "$root/internal/bench/rest" && go test -c -o "$out/rest.test" .)
: >"$out/bench.txt"
for i in $(seq "$count"); do
	echo "# round $i of $count" >&2
	"$out/rest.test" -test.run '^$' -test.timeout 0 -test.bench "^BenchmarkREST\$/$bench" -test.benchmem \
		-test.count=1 -test.benchtime="$benchtime" | tee -a "$out/bench.txt"
done

cd "$root"
go tool -modfile=tools/go.mod benchstat -col /impl "$out/bench.txt" | tee "$out/benchstat.txt"
go run ./internal/bench/runtime/paired -baseline grpc-gateway "$out/bench.txt" | tee "$out/paired.txt"
