#!/usr/bin/env bash
# npm run lab:build — everything a real lab run needs, offline, cached under
# $K8S_LAB_CACHE (default ~/.cache/k8s-lab); each step is skipped when its output exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
step() { local s=$SECONDS name=$1; shift; "$@" >/dev/null; echo "lab:build: $name $((SECONDS - s)) s" >&2; }
step "compile the program" npx tsc -p .
step "engine (Pulumi CLI, language host, plugins)" "$here/engine.sh"
step "release files" "$here/build-release-files.sh"
step "container images" "$here/build-images.sh"
step "guest image" "$here/build-guest-image.sh"
