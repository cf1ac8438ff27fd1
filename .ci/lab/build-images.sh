#!/usr/bin/env bash
# Container images as docker-archive tarballs, with no registry: pause (from pause.c in
# the Kubernetes module, static), CoreDNS (from its Go module) and a busybox test image
# (Debian's busybox-static), written by imagetool/. Output: $CACHE/images-archive/*.tar.
# flannel (flanneld from its Go module; Debian's iptables). weave-net, flannel's CNI plugin,
# the dashboard and Headlamp cannot be built from what these machines reach (their modules
# are not served): built by hand, never committed, their archives put beside these. Each
# archive is skipped when it exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
eval "$(cd "$here/../.." && npx tsx tools/default-versions.ts)"
K8S_VERSION=${K8S_VERSION:-$DEFAULT_K8S_VERSION}
PAUSE_VERSION=${PAUSE_VERSION:-$DEFAULT_PAUSE_VERSION}
COREDNS_VERSION=${COREDNS_VERSION:-$DEFAULT_COREDNS_VERSION}
FLANNEL_VERSION=${FLANNEL_VERSION:-$DEFAULT_FLANNEL_VERSION}
out=$cache/images-archive
work=$cache/build/images
mkdir -p "$out" "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
# shellcheck source=rootfs.sh
. "$here/rootfs.sh"
tool=$(imagetool_bin)

# pause: the sandbox every pod starts with
if [[ ! -s $out/pause-$PAUSE_VERSION.tar ]]; then
  kdir=$(cd "$work" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))')
  rm -rf "$work/pause" && mkdir -p "$work/pause"
  gcc -Os -static -Wall -Werror -DVERSION="v$PAUSE_VERSION-k8s-lab" -o "$work/pause/pause" "$kdir/build/pause/linux/pause.c"
  strip "$work/pause/pause"
  "$tool" -tag "registry.k8s.io/pause:$PAUSE_VERSION" -dir "$work/pause" -entrypoint /pause -user 65535:65535 -out "$out/pause-$PAUSE_VERSION.tar"
fi

# CoreDNS: the cluster DNS (runs as root with only NET_BIND_SERVICE, as the manifest asks)
if [[ ! -s $out/coredns-$COREDNS_VERSION.tar ]]; then
  w=$work/coredns-mod
  rm -rf "$w" "$work/coredns" && mkdir -p "$w" "$work/coredns/etc/ssl/certs"
  (cd "$w" && go mod init local/coredns >/dev/null 2>&1 && go mod edit -require="github.com/coredns/coredns@v$COREDNS_VERSION" \
    && go build -trimpath -ldflags "-s -w" -o "$work/coredns/coredns" github.com/coredns/coredns)
  cp /etc/ssl/certs/ca-certificates.crt "$work/coredns/etc/ssl/certs/"
  "$tool" -tag "registry.k8s.io/coredns/coredns:v$COREDNS_VERSION" -dir "$work/coredns" -entrypoint /coredns -out "$out/coredns-$COREDNS_VERSION.tar"
fi

# flannel: flanneld at the version the program pins (its tag: an archive's digest is not
# upstream's, so a stack runs it with imageOverrides flannel=<this tag>), on a Debian 12
# userland with the iptables it calls for masquerading (upstream's image is Alpine's); cgo (its
# udp backend), linked against the userland's glibc
if [[ ! -s $out/flannel-$FLANNEL_VERSION.tar ]]; then
  w=$work/flannel-mod
  rm -rf "$w" && mkdir -p "$w"
  (cd "$w" && go mod init local/flannel >/dev/null 2>&1 && go mod edit -require="github.com/flannel-io/flannel@$FLANNEL_VERSION" \
    && CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION" -o "$w/flanneld" github.com/flannel-io/flannel)
  root=$work/flannel
  debian_rootfs "$root" iptables,iproute2,ca-certificates
  install -D -m 0755 "$w/flanneld" "$root/opt/bin/flanneld"
  "$tool" -tag "ghcr.io/flannel-io/flannel:$FLANNEL_VERSION" -dir "$root" -entrypoint /opt/bin/flanneld -out "$out/flannel-$FLANNEL_VERSION.tar"
fi

# busybox: a shell with ping, wget and nslookup for the lab's own checks
if ! ls "$out"/busybox-*.tar >/dev/null 2>&1; then
  busybox_rootfs "$work/busybox"
  bv=$(dpkg-query -W -f '${Version}' busybox-static | tr -c 'A-Za-z0-9.\n_-' '-')
  "$tool" -tag "localhost/k8s-lab/busybox:$bv" -dir "$work/busybox" -cmd sh -out "$out/busybox-$bv.tar"
fi
ls "$out"
