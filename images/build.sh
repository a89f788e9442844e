#!/usr/bin/env bash
# Build the images the stack needs and nobody publishes, tagged as the program's defaults
# (agent-os/<name>:<TAG>); with --push REGISTRY, also push them there for
# `agent-os:images.mirror: REGISTRY`. Needs Docker with access to Docker Hub's base images.
#
#   images/build.sh [--push REGISTRY] [NAME ...]     (default: every image)
set -euo pipefail
cd "$(dirname "$0")"
push=""
if [ "${1:-}" = --push ]; then push=${2:?--push needs a registry host[:port]}; shift 2; fi
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(postgres-age-pgvector agent-utilities epistemic-graph agent-webui agent-terminal-ui)
for name in "${names[@]}"; do
  [ -f "$name/TAG" ] || { echo "unknown image: $name" >&2; exit 2; }
  ref="agent-os/$name:$(cat "$name/TAG")"
  if [ -f "$name/Dockerfile" ]; then
    docker build -t "$ref" "$name"
  else
    docker build -t "$ref" -f python-app.Dockerfile \
      --build-arg STATE_DIRS="$(cat "$name/STATE_DIRS" 2>/dev/null || true)" "$name"
  fi
  if [ -n "$push" ]; then
    docker tag "$ref" "$push/$ref"
    docker push "$push/$ref"
  fi
done
