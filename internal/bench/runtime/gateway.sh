#!/bin/sh
# Runs BenchmarkGateway of the proxy package: a grpc-go client calls one
# grpc.Server backend through mwitkow/grpc-proxy on a grpc.Server
# (impl=mwitkow), through the proxy package on a polyrpc.Server served by
# Serve (impl=polyrpc), and directly (impl=direct), over loopback TCP;
# COUNT rounds in a row, then compares them with benchstat (pinned in
# tools/go.mod), mwitkow first, and with the paired ratios. Run from
# anywhere in the repository:
#
#   internal/bench/runtime/gateway.sh [output directory]
#
# Environment: COUNT (default 10), BENCHTIME (default 1s), BENCH (default
# ".", a -bench pattern within BenchmarkGateway, such as "kind=unary").
set -eu
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
out=${1:-$root/internal/bench/runtime/results/gateway}
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

# One round runs each workload on the three impls one after the other
# (go test -count=N would repeat one benchmark N times in a row).
go test -c -o "$out/proxy.test" ./proxy
: >"$out/bench.txt"
for i in $(seq "$count"); do
	echo "# round $i of $count" >&2
	"$out/proxy.test" -test.run '^$' -test.timeout 0 -test.bench "^BenchmarkGateway\$/$bench" -test.benchmem \
		-test.count=1 -test.benchtime="$benchtime" | tee -a "$out/bench.txt"
done

go tool -modfile=tools/go.mod benchstat -col /impl "$out/bench.txt" | tee "$out/benchstat.txt"
go run ./internal/bench/runtime/paired -baseline mwitkow "$out/bench.txt" | tee "$out/paired.txt"
