#!/usr/bin/env bash
# Writes the CodeGeneratorRequest protoc sends for every googleapis file that
# declares a service, comments included, and prints it as genbench's -real
# entry googleapis-full=PATH. Usage (run.sh calls it):
#
#   internal/bench/gen/googleapis.sh CACHE BIN
#
# The sources are the npm package google-proto-files (pinned below), fetched
# with `npm pack` into CACHE; the well-known types come from Debian's
# libprotobuf-dev (/usr/include), protoc from protobuf-compiler. BIN must hold
# protoc-gen-dump (internal/bench/gen/cmd/protoc-gen-dump).
set -euo pipefail

PKG=google-proto-files
VERSION=6.0.1
SHA512=7dbbd4595361deb286955156c2550d17b4a4d536a1d1af3dab4dab2d35ec5a36ca28719eb944406bcb65f6bbeee53c969f2d58892228e5e0ea176eb44da8babd
PROTOS=7243 # .proto files in the package

cache="$1"
bin="$2"
src="$cache/$PKG-$VERSION"
req="$cache/requests/real-googleapis-full.bin"

if [ -f "$req" ]; then
  echo "googleapis-full=$req"
  exit 0
fi

missing=()
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/descriptor.proto ] || missing+=(libprotobuf-dev)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -f "$src/.complete" ]; then
  echo "fetching $PKG@$VERSION into $src" >&2
  rm -rf "$src"
  mkdir -p "$src"
  tgz="$(cd "$src" && npm pack --silent "$PKG@$VERSION" | tail -n 1)"
  if ! echo "$SHA512  $src/$tgz" | sha512sum --quiet -c - >&2; then
    echo "googleapis.sh: $src/$tgz is not the pinned $PKG@$VERSION" >&2
    exit 1
  fi
  tar -xzf "$src/$tgz" -C "$src"
  n="$(find "$src/package" -name '*.proto' | wc -l)"
  if [ "$n" -ne "$PROTOS" ]; then
    echo "googleapis.sh: $src/package holds $n .proto files, want $PROTOS" >&2
    exit 1
  fi
  rm "$src/$tgz"
  touch "$src/.complete"
fi

# Every file under google/ and grafeas/ that declares a service, in byte
# order; the well-known types are Debian's, so google/protobuf is left out.
cd "$src/package"
mapfile -t files < <(grep -rl --include='*.proto' '^service ' google grafeas | grep -v '^google/protobuf/' | LC_ALL=C sort)
echo "compiling ${#files[@]} googleapis files with $(protoc --version)" >&2
mkdir -p "$(dirname "$req")"
out="$(mktemp -d "$req.XXXXXX")"
trap 'rm -rf "$out"' EXIT
if ! protoc -I/usr/include -I. --plugin=protoc-gen-dump="$bin/protoc-gen-dump" --dump_out="$out" \
  --dump_opt="$out/req.bin" "${files[@]}" 2>"$out/log"; then
  cat "$out/log" >&2
  exit 1
fi
# Requests genbench derived from an older one (other parameters) are stale.
rm -f "${req%.bin}".*.bin
mv "$out/req.bin" "$req"
echo "googleapis-full=$req"
