#!/bin/sh
# Regenerates gen/ from proto/ with protoc: protoc-gen-go and protoc-gen-rpc
# of the main module, protoc-gen-grpc-gateway v2.34.0 (the version of go.mod).
# google/api/*.proto come from golden/rpc/google/api. From this directory:
#
#   ./gen.sh
set -eu
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd ../../.. && go build -o "$bin/" google.golang.org/protobuf/cmd/protoc-gen-go ./cmd/protoc-gen-rpc)
GOBIN="$bin" go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@v2.34.0
opt=module=github.com/polyrpc/polyrpc/internal/bench/rest
protoc -I proto -I ../../../golden/rpc \
	--plugin=protoc-gen-go="$bin/protoc-gen-go" --go_out=. --go_opt=$opt \
	--plugin=protoc-gen-rpc="$bin/protoc-gen-rpc" --rpc_out=. --rpc_opt=$opt \
	--plugin=protoc-gen-grpc-gateway="$bin/protoc-gen-grpc-gateway" --grpc-gateway_out=. --grpc-gateway_opt=$opt \
	proto/restbench/v1/bench.proto
