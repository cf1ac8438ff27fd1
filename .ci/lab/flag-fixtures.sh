#!/usr/bin/env bash
# Regenerates test/upstream/flags/<binary>-v<version>.json: the flags each pinned binary
# accepts, read from its own --help (test/upstream/help.ts). The binaries are the release
# files build-release-files.sh makes from the Go module proxy (reused when cached).
# Usage: npm run fixtures:flags   (versions: K8S_VERSION ETCD_VERSION, and RELEASE_FILES_DIR, as build-release-files.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
eval "$(npx tsx tools/default-versions.ts)"
K8S_VERSION=${K8S_VERSION:-$DEFAULT_K8S_VERSION}
ETCD_VERSION=${ETCD_VERSION:-$DEFAULT_ETCD_VERSION}
files=${RELEASE_FILES_DIR:-$cache/artifacts}
export K8S_VERSION ETCD_VERSION RELEASE_FILES_DIR=$files
bash .ci/lab/build-release-files.sh kubernetes etcd
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$files/kubernetes-server-linux-amd64.tar.gz" -C "$work"
tar -xzf "$files/etcd-v$ETCD_VERSION-linux-amd64.tar.gz" -C "$work"
fixture() { # BINARY VERSION PATH
  "$3" --help 2>&1 | node --require tsx/cjs test/upstream/help.ts "$1" "$2" > "test/upstream/flags/$1-v$2.json"
  echo "fixtures:flags: $1 v$2: $(node -p 'Object.keys(require(process.argv[1]).flags).length' "$PWD/test/upstream/flags/$1-v$2.json") flags"
}
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  fixture "$b" "$K8S_VERSION" "$work/kubernetes/server/bin/$b"
done
fixture etcd "$ETCD_VERSION" "$work/etcd-v$ETCD_VERSION-linux-amd64/etcd"
