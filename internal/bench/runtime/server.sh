#!/bin/sh
# Runs BenchmarkServer: polyrpc.Server, served by its Serve (impl=polyrpc)
# and as an http.Handler of net/http (impl=polyrpc-nethttp, HTTP/1.1 and h2c
# on one port), against grpc-go's grpc.Server, all called by grpc-go
# clients over loopback TCP, COUNT rounds in a row, then compares them with
# benchstat (pinned in tools/go.mod), grpc-go first, and with the paired
# ratios. Run from anywhere in the repository:
#
#   internal/bench/runtime/server.sh [output directory]
#
# Environment: COUNT (default 10), BENCHTIME (default 1s), BENCH (default
# ".", a -bench pattern within BenchmarkServer, such as "kind=unary").
set -eu
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
out=${1:-$root/internal/bench/runtime/results/server}
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

# Every round runs each workload on grpc-go and then at once on polyrpc's, so
# that load drifts hit them alike (go test -count=N would instead repeat one
# benchmark N times in a row).
: >"$out/bench.txt"
for i in $(seq "$count"); do
	echo "# round $i of $count" >&2
	go test -run '^$' -timeout 0 -bench "^BenchmarkServer\$/$bench" -benchmem -count=1 -benchtime="$benchtime" \
		./internal/bench/runtime/ | tee -a "$out/bench.txt"
done

# One row per kind and size, one column per server; grpc-go is the
# baseline of every ratio.
go tool -modfile=tools/go.mod benchstat -col /impl "$out/bench.txt" | tee "$out/benchstat.txt"
# The median of the paired ratios, round by round.
go run ./internal/bench/runtime/paired -baseline grpc-go "$out/bench.txt" | tee "$out/paired.txt"
