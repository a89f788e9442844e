#!/usr/bin/env bash
# Build the real Pulumi toolchain from published Go modules (no prebuilt binary can be
# downloaded here): the CLI, the Python language host and its exec script; plus launchers
# for the six provider plugins, which cannot be built here. Idempotent; offline once built.
#
#   tools/pulumi-toolchain.sh          build what is missing, print the bin folder
#
# Output: .toolchain/bin in the repo (ignored by git): links to the binaries, cached under
# $AGENT_OS_TOOLCHAIN_CACHE (default ~/.cache/agent-os/toolchain) so a machine that built
# them once builds nothing, plus the provider and policy launchers. Prints that folder.
# Why each version: README, "The real Pulumi engine".
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local

# The CLI. Its language host is no longer a package of sdk/v3 (own module since v3.80.0,
# never tagged, and the module proxy serves none of its commits), so the host comes from
# the last sdk/v3 that contains it. The exec script is the Python SDK's own version.
PULUMI_VERSION=v3.274.1
LANGHOST_SDK_VERSION=v3.79.0
PYTHON_SDK_VERSION=v$(sed -n 's/^pulumi==//p' requirements.txt)

# Provider plugins: the six the program uses are NOT buildable here (their Go modules are
# refused by our module proxy: notes/2026-11-25-machine.md). Each is replaced by a launcher
# of verify/providers/, which speaks the real provider protocol, checks inputs against the
# package's published schema and deploys through the real APIs. The launchers name this
# checkout, so they live in the repo's ignored .toolchain/, not in the shared cache.
PROVIDERS=(command docker keycloak postgresql random vault)

# Each binary is cached under a hash of exactly what determines it (its modules, versions,
# flags, this recipe's revision and the Go version): editing a comment here rebuilds nothing.
RECIPE=1
cache=${AGENT_OS_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-os/toolchain}
gover=$(go version)
here=$(pwd)
local_bin=$here/.toolchain/bin
mkdir -p "$local_bin"
# Every file in bin/ is replaced atomically (write beside, then rename): a test session
# running the toolchain while another one builds it never sees a missing or half-written file.
place() { mv -f "$1" "$2"; }
log() { echo "toolchain: $*" >&2; }

# build NAME OUT-BINARY PACKAGE LDFLAGS REQUIRE... [-- REPLACE...]: a wrapper module that
# requires the published modules, then `go build` of the package into bin/ (atomic).
build() {
  local name=$1 out=$2 pkg=$3 ldflags=$4
  shift 4
  local key bin
  key=$(echo "$RECIPE|$name|$out|$pkg|$ldflags|$*|$gover" | sha256sum | cut -c1-16)
  bin=$cache/$name-$key
  if [ ! -x "$bin/$out" ]; then compile "$name" "$out" "$pkg" "$ldflags" "$bin" "$@"; fi
  # A copy, not a link: the language host finds its exec script beside its real path.
  if [ ! "$bin/$out" -ef "$local_bin/$out" ]; then
    ln -f "$bin/$out" "$local_bin/.$out.new" 2>/dev/null || cp -f "$bin/$out" "$local_bin/.$out.new"
    place "$local_bin/.$out.new" "$local_bin/$out"
  fi
}

compile() {
  local name=$1 out=$2 pkg=$3 ldflags=$4 bin=$5
  shift 5
  mkdir -p "$bin"
  local dir=$bin/src start=$SECONDS req replacing=0
  rm -rf "$dir" && mkdir -p "$dir"
  {
    echo "module agentos.local/toolchain/$name"
    echo
    echo "go 1.24"
  } >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$dir/tools.go"
  for req in "$@"; do
    if [ "$req" = -- ]; then replacing=1; continue; fi
    if [ $replacing = 1 ]; then
      (cd "$dir" && go mod edit -replace "$req")
    else
      (cd "$dir" && go mod edit -require "$req")
    fi
  done
  log "building $out ($name)"
  (cd "$dir" && go mod tidy >"$dir/tidy.log" 2>&1) || { cat "$dir/tidy.log" >&2; return 1; }
  (cd "$dir" && nice go build -trimpath -o "$bin/.$out.tmp" -ldflags "-s -w $ldflags" "$pkg") || return 1
  mv "$bin/.$out.tmp" "$bin/$out"
  rm -rf "$dir"
  log "built $out in $((SECONDS - start)) s"
}

build cli pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
  "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"

build language-python pulumi-language-python github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGHOST_SDK_VERSION" \
  "github.com/pulumi/pulumi/sdk/v3@$LANGHOST_SDK_VERSION"

# The exec script the host runs, from the module cache (downloaded once, verified by go).
dir=$(cd "$cache" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PYTHON_SDK_VERSION" |
  sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { log "could not download sdk/v3@$PYTHON_SDK_VERSION"; exit 1; }
install -m 755 "$dir/python/cmd/pulumi-language-python-exec" "$local_bin/.pulumi-language-python-exec.new"
place "$local_bin/.pulumi-language-python-exec.new" "$local_bin/pulumi-language-python-exec"

# The provider launchers (this checkout's venv and sources).
for name in "${PROVIDERS[@]}"; do
  version=$(sed -n "s/^pulumi-$name==//p" requirements.txt)
  [ -n "$version" ] || { log "requirements.txt pins no pulumi-$name"; exit 1; }
  printf '#!/bin/sh\nPYTHONPATH="%s" exec "%s/.venv/bin/python" -m verify.providers %s %s "$@"\n' \
    "$here" "$here" "$name" "$version" \
    >"$local_bin/.pulumi-resource-$name.new"
  chmod 755 "$local_bin/.pulumi-resource-$name.new"
  place "$local_bin/.pulumi-resource-$name.new" "$local_bin/pulumi-resource-$name"
done
echo "$local_bin"
