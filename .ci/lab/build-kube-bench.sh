#!/usr/bin/env bash
# kube-bench (the CIS Kubernetes Benchmark runner) for the lab's e2e, offline: built from the
# Go module proxy at a pinned version, static, with the benchmark definitions its module
# carries (cfg/), into $CACHE/kube-bench-<version>/. Skipped when it exists. Prints the directory.
set -euo pipefail
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
KUBE_BENCH_VERSION=${KUBE_BENCH_VERSION:-v0.14.0}
out=$cache/kube-bench-$KUBE_BENCH_VERSION
if [[ ! -x $out/kube-bench || ! -d $out/cfg ]]; then
  mkdir -p "$out"
  export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
  s=$SECONDS
  # (built inside its own module, with its go.sum: `go install …@version` asks the proxy for
  # the module's version list, which it refuses)
  dir=$(go mod download -json "github.com/aquasecurity/kube-bench@$KUBE_BENCH_VERSION" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).Dir')
  work=$cache/build/kube-bench-$KUBE_BENCH_VERSION
  rm -rf "$work" && cp -r "$dir" "$work" && chmod -R u+w "$work"
  (cd "$work" && go build -trimpath -ldflags "-s -w -X github.com/aquasecurity/kube-bench/cmd.KubeBenchVersion=$KUBE_BENCH_VERSION" -o "$out/kube-bench" .)
  rm -rf "$out/cfg" && cp -r "$work/cfg" "$out/cfg"
  echo "kube-bench $KUBE_BENCH_VERSION: $((SECONDS - s)) s" >&2
fi
echo "$out"
