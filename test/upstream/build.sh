#!/usr/bin/env bash
# Builds the upstream judges into test/upstream/.bin/: small Go programs that decode what
# the plan renders with upstream's own types, loaders and validation at the pinned
# releases (kubernetes/, etcd/, containerd/; go.mod and go.sum pin every module). Modules
# come from the Go module proxy; a cold build takes minutes, a warm one seconds.
set -euo pipefail
cd "$(dirname "$0")"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
mkdir -p .bin
for judge in kubernetes etcd containerd; do
  start=$SECONDS
  # no_btrfs: containerd's btrfs snapshotter needs cgo; its config is not judged
  (cd "$judge" && go build -trimpath -tags no_btrfs -o "../.bin/$judge-judge" .)
  echo "upstream judges: $judge $((SECONDS - start)) s" >&2
done
# etcd and etcdctl themselves (same pinned release as the judge): the membership scripts
# run against a real cluster
start=$SECONDS
(cd etcd && go build -trimpath -o ../.bin/etcd ./cmd/etcd && go build -trimpath -o ../.bin/etcdctl go.etcd.io/etcd/etcdctl/v3)
echo "upstream judges: etcd, etcdctl $((SECONDS - start)) s" >&2
