#!/usr/bin/env bash
# The cluster's release files, built from the Go module proxy and packaged under upstream's
# file names and layouts, so the air-gapped mode (artifactDir) takes them:
#   kubernetes-{server,node}-linux-amd64.tar.gz, etcd-vX-linux-amd64.tar.gz,
#   containerd-X-linux-amd64.tar.gz, runc.amd64, crictl-vX-linux-amd64.tar.gz,
#   cni-plugins-linux-amd64-vX.tgz
# into $CACHE/artifacts/, with checksums.txt ('FILE=sha256:HEX' lines for the stack's
# artifactChecksums: these builds' digests differ from upstream's). Reproducible archives
# (sorted, fixed mtime, gzip -n, -trimpath). Each file is skipped when it exists.
# Usage: build-release-files.sh [component…]   (default: all)
# Versions: K8S_VERSION ETCD_VERSION CONTAINERD_VERSION RUNC_VERSION CRICTL_VERSION CNI_VERSION
# (default: the program's defaults, tools/default-versions.ts)
# RELEASE_FILES_DIR: where the files land (default $CACHE/artifacts). Kubernetes' archives carry
# no version in their names: build another Kubernetes version into a directory of its own.
set -euo pipefail
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
out=${RELEASE_FILES_DIR:-$cache/artifacts}
eval "$(cd "$(dirname "$0")/../.." && npx tsx tools/default-versions.ts)"
K8S_VERSION=${K8S_VERSION:-$DEFAULT_K8S_VERSION}
ETCD_VERSION=${ETCD_VERSION:-$DEFAULT_ETCD_VERSION}
CONTAINERD_VERSION=${CONTAINERD_VERSION:-$DEFAULT_CONTAINERD_VERSION}
RUNC_VERSION=${RUNC_VERSION:-$DEFAULT_RUNC_VERSION}
CRICTL_VERSION=${CRICTL_VERSION:-$DEFAULT_CRICTL_VERSION} # the module proxy serves no cri-tools 1.35.x
CNI_VERSION=${CNI_VERSION:-$DEFAULT_CNI_VERSION}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$out" "$cache/build"
MTIME=@1700000000

# pack ARCHIVE DIR: a reproducible tar.gz of DIR's contents
pack() {
  tar --sort=name --mtime="$MTIME" --owner=0 --group=0 --numeric-owner -C "$2" -cf - . | gzip -n -9 > "$1.partial"
  mv "$1.partial" "$1"
}
# wrapper DIR MODULE…: a main module in DIR that requires the given module@version list
wrapper() {
  local dir=$1; shift
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init local/wrapper >/dev/null 2>&1 && for m in "$@"; do go mod edit -require="$m"; done)
}
# shellcheck source=k8s-module.sh
. "$(dirname "$0")/k8s-module.sh"
timed() { local s=$SECONDS name=$1; shift; if "$@"; then echo "release files: $name $((SECONDS - s)) s" >&2; else echo "release files: $name FAILED" >&2; return 1; fi; }

kubernetes() {
  local v=$K8S_VERSION
  [[ -s $out/kubernetes-server-linux-amd64.tar.gz && -s $out/kubernetes-node-linux-amd64.tar.gz ]] && return 0
  local w=$cache/build/kubernetes-$v
  k8s_module "$w" "$v"
  local ld=$K8S_LDFLAGS
  local stage=$w/stage
  mkdir -p "$stage/server/kubernetes/server/bin" "$stage/node/kubernetes/node/bin"
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    [[ -x $stage/server/kubernetes/server/bin/$cmd ]] && continue
    (cd "$w" && go build -trimpath -ldflags "$ld" -o "$stage/server/kubernetes/server/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd")
    echo "release files: built $cmd" >&2
  done
  for cmd in kubelet kube-proxy kubectl; do cp "$stage/server/kubernetes/server/bin/$cmd" "$stage/node/kubernetes/node/bin/$cmd"; done
  pack "$out/kubernetes-server-linux-amd64.tar.gz" "$stage/server"
  pack "$out/kubernetes-node-linux-amd64.tar.gz" "$stage/node"
}

etcd() {
  local v=$ETCD_VERSION f=etcd-v$ETCD_VERSION-linux-amd64
  [[ -s $out/$f.tar.gz ]] && return 0
  local w=$cache/build/etcd-$v
  wrapper "$w" "go.etcd.io/etcd/server/v3@v$v" "go.etcd.io/etcd/etcdctl/v3@v$v" "go.etcd.io/etcd/etcdutl/v3@v$v"
  # the server's main lives in the root module, which has local replaces: a 3-line main instead
  mkdir -p "$w/cmd/etcd"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > "$w/cmd/etcd/main.go"
  local stage=$w/stage/$f ld="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$v"
  mkdir -p "$stage"
  (cd "$w" && go build -trimpath -ldflags "$ld" -o "$stage/etcd" ./cmd/etcd \
    && go build -trimpath -ldflags "$ld" -o "$stage/etcdctl" go.etcd.io/etcd/etcdctl/v3 \
    && go build -trimpath -ldflags "$ld" -o "$stage/etcdutl" go.etcd.io/etcd/etcdutl/v3)
  pack "$out/$f.tar.gz" "$w/stage"
}

containerd() {
  local v=$CONTAINERD_VERSION f=containerd-$CONTAINERD_VERSION-linux-amd64.tar.gz
  [[ -s $out/$f ]] && return 0
  local w=$cache/build/containerd-$v
  wrapper "$w" "github.com/containerd/containerd/v2@v$v"
  local stage=$w/stage ld="-s -w -X github.com/containerd/containerd/v2/version.Version=v$v -X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2"
  mkdir -p "$stage/bin"
  for cmd in containerd containerd-shim-runc-v2 ctr; do
    (cd "$w" && go build -trimpath -tags no_btrfs -ldflags "$ld" -o "$stage/bin/$cmd" "github.com/containerd/containerd/v2/cmd/$cmd")
  done
  pack "$out/$f" "$stage"
}

runc() {
  local v=$RUNC_VERSION
  [[ -s $out/runc.amd64 ]] && return 0
  # runc links libseccomp (cgo): Debian's headers, installed when missing (a fresh machine has none)
  if [[ ! -f /usr/include/seccomp.h ]]; then
    [[ $(id -u) -eq 0 ]] || { echo "release files: runc needs libseccomp-dev (apt-get install libseccomp-dev)" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libseccomp-dev >/dev/null
  fi
  local w=$cache/build/runc-$v
  wrapper "$w" "github.com/opencontainers/runc@v$v"
  (cd "$w" && CGO_ENABLED=1 go build -trimpath -tags seccomp -ldflags "-s -w -X main.version=$v" -o "$out/runc.amd64.partial" github.com/opencontainers/runc)
  mv "$out/runc.amd64.partial" "$out/runc.amd64"
}

crictl() {
  local v=$CRICTL_VERSION f=crictl-v$CRICTL_VERSION-linux-amd64.tar.gz
  [[ -s $out/$f ]] && return 0
  local w=$cache/build/crictl-$v
  wrapper "$w" "sigs.k8s.io/cri-tools@v$v"
  mkdir -p "$w/stage"
  (cd "$w" && go build -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=v$v" -o "$w/stage/crictl" sigs.k8s.io/cri-tools/cmd/crictl)
  pack "$out/$f" "$w/stage"
}

cni() {
  local v=$CNI_VERSION f=cni-plugins-linux-amd64-v$CNI_VERSION.tgz
  [[ -s $out/$f ]] && return 0
  local w=$cache/build/cni-$v
  wrapper "$w" "github.com/containernetworking/plugins@v$v"
  mkdir -p "$w/stage"
  for p in main/bridge main/loopback main/host-device main/ptp main/macvlan main/ipvlan main/vlan main/tap main/dummy ipam/host-local ipam/static ipam/dhcp meta/portmap meta/bandwidth meta/firewall meta/tuning meta/sbr meta/vrf; do
    (cd "$w" && go build -trimpath -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v$v" -o "$w/stage/${p#*/}" "github.com/containernetworking/plugins/plugins/$p")
  done
  pack "$out/$f" "$w/stage"
}

components=("$@")
((${#components[@]})) || components=(etcd containerd runc crictl cni kubernetes)
for c in "${components[@]}"; do timed "$c" "$c"; done
(cd "$out" && for f in *; do [[ -f $f && $f != checksums.txt && $f != *.partial ]] && echo "$f=sha256:$(sha256sum "$f" | cut -d' ' -f1)"; done) > "$out/checksums.txt"
echo "$out"
