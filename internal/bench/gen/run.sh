#!/usr/bin/env bash
# Times protoc-gen-rpc and protoc-gen-rpcdoc against protoc-gen-go-grpc,
# protoc-gen-connect-go and protoc-gen-doc, each run as a process on the same
# large CodeGeneratorRequests. Usage:
#
#   internal/bench/gen/run.sh [genbench flags, e.g. -runs 7 -scales 1,2,4]
#
# Plugins and requests are kept in $GENBENCH_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/polyrpc-genbench). Peers are pinned here.
set -euo pipefail
cd "$(dirname "$0")/../../.."

GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc       # version from go.mod (tool)
CONNECT_GO=connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1
PROTOC_GEN_DOC=github.com/pseudomuto/protoc-gen-doc/cmd/protoc-gen-doc@v1.5.1

cache="${GENBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/polyrpc-genbench}"
bin="$cache/bin"
mkdir -p "$bin"

if [ ! -x /usr/bin/time ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time
fi

echo "building plugins into $bin" >&2
go build -o "$bin/" ./cmd/protoc-gen-rpc ./cmd/protoc-gen-rpcdoc ./internal/bench/gen/cmd/protoc-gen-dump
go build -o "$bin/" "$GO_GRPC"
GOBIN="$bin" GOFLAGS= go install "$CONNECT_GO"
GOBIN="$bin" GOFLAGS= go install "$PROTOC_GEN_DOC"

# Real requests made by genreal (public proto sets from the Go module cache),
# and googleapis with comments as protoc sends it (sources from npm).
real="$(go run ./internal/bench/gen/cmd/genreal -cache "$cache/requests")"
real="$real,$(internal/bench/gen/googleapis.sh "$cache" "$bin")"

exec go run ./internal/bench/gen/cmd/genbench -cache "$cache/requests" -bin "$bin" -real "$real" "$@"
