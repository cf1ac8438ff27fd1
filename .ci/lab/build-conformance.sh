#!/usr/bin/env bash
# The conformance kit for npm run lab:conformance, offline, from the Go module proxy and
# Debian's packages only, into $CACHE/conformance-<Kubernetes version>/:
#   e2e.test   k8s.io/kubernetes/test/e2e at the lab's release, built with go test -c
#   ginkgo     the ginkgo CLI at the version that release requires
#   images/conformance-images.tar  the test images the suite runs, in one docker-archive
#              under their upstream names (test/utils/image/manifest.go of that release):
#              agnhost (and a second build under the AgnhostPrev tag, with another digest),
#              busybox, nginx (both tags), glibc-dns-testing (the smoke set's), nautilus,
#              sample-apiserver, etcd, nonewprivs (the full suite's besides). Debian
#              userlands where upstream's start from Alpine (docs/offline-lab.md says how they differ); all but busybox are
#              layers over one userland, which the archive holds once (imagetool -merge) and
#              each node then receives, hashes and keeps once. Each image's own archive stays
#              in the build directory.
# Each part is skipped when it exists. Needs root for mmdebstrap (the userlands).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
eval "$(cd "$here/../.." && npx tsx tools/default-versions.ts)"
K8S_VERSION=${K8S_VERSION:-$DEFAULT_K8S_VERSION}
out=$cache/conformance-$K8S_VERSION
work=$cache/build/conformance-$K8S_VERSION
each=$work/images
mkdir -p "$out/images" "$each"
# kits built before the merged archive kept each image's archive in images/: moved aside
for f in "$out"/images/*.tar; do [[ -e $f && $f != */conformance-images.tar ]] && mv "$f" "$each/"; done
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
# shellcheck source=k8s-module.sh
. "$here/k8s-module.sh"
# shellcheck source=rootfs.sh
. "$here/rootfs.sh"
timed() { local s=$SECONDS name=$1; shift; "$@"; echo "conformance kit: $name $((SECONDS - s)) s" >&2; }

[[ -d $work/stage ]] || k8s_module "$work" "$K8S_VERSION"
kdir=$(cd "$work" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).Dir')
mkdir -p "$work/stage"

# the image names and tags the release's e2e framework asks for
manifest=$kdir/test/utils/image/manifest.go
# image NAME: the full reference of the test image NAME (its key in manifest.go): the
# registry its list names (initRegistry there), its name and tag
image() {
  local l r t
  l=$(sed -n "s/^\s*configs\[$1\] = Config{list\.\([A-Za-z0-9]*\), \"\([^\"]*\)\", \"\([^\"]*\)\"}.*/\1 \2:\3/p" "$manifest")
  [[ -n $l ]] || { echo "conformance kit: no image $1 in $manifest" >&2; exit 1; }
  t=${l#* } r=$(sed -n "s/^\s*${l%% *}:\s*\"\([^\"]*\)\",.*/\1/p" "$manifest")
  [[ -n $r ]] || { echo "conformance kit: no registry ${l%% *} in $manifest" >&2; exit 1; }
  echo "$r/$t"
}

[[ -x $out/e2e.test ]] || timed e2e.test bash -c "cd '$work' && go test -c -trimpath -ldflags '$K8S_LDFLAGS' -o '$out/e2e.test' k8s.io/kubernetes/test/e2e"
ginkgo_version=$(cd "$work" && go list -m -f '{{.Version}}' github.com/onsi/ginkgo/v2)
[[ -x $out/ginkgo ]] || timed "ginkgo $ginkgo_version" bash -c "cd '$work' && go build -trimpath -o '$out/ginkgo' github.com/onsi/ginkgo/v2/ginkgo"

# the tools upstream's agnhost image installs, from Debian (also the glibc-dns-testing userland)
TOOLS_PACKAGES=bash,curl,dnsutils,netcat-openbsd,iproute2,iperf,util-linux,ca-certificates
tool=$(imagetool_bin)

# The test images are layers over one userland (the tools upstream's agnhost image installs,
# with the user and group the tests expect), so each node stores and unpacks it once.
tools_userland() {
  [[ -d $work/layer-users ]] && return 0
  debian_rootfs "$work/userland-tools" "$TOOLS_PACKAGES"
  rm -rf "$work/users-full" && cp -a "$work/userland-tools" "$work/users-full"
  chroot "$work/users-full" groupadd -g 50000 group-defined-in-image
  chroot "$work/users-full" useradd -u 1000 -U -M -G group-defined-in-image user-defined-in-image
  upper_dir "$work/userland-tools" "$work/users-full" "$work/layer-users.partial"
  rm -rf "$work/users-full" && mv "$work/layer-users.partial" "$work/layer-users"
}
USERLAND=(-dir "$work/userland-tools" -dir "$work/layer-users")

# stage_bin NAME PACKAGE: the Go program PACKAGE of the release's module, built once into stage/
stage_bin() {
  [[ -x $work/stage/$1 ]] || (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$work/stage/$1" "$2")
  echo "$work/stage/$1"
}

# agnhost: the e2e suite's many-purpose test server over that userland (bind's dig, curl,
# netcat, iproute2, iperf, bash), its porter certificates, /uploads and CoreDNS as /coredns
agnhost_layers() {
  local variant=$1 layer=$work/layer-agnhost
  if [[ ! -x $layer/agnhost ]]; then
    local bin
    bin=$(stage_bin agnhost k8s.io/kubernetes/test/images/agnhost)
    # CoreDNS: the lab's own build (build-images.sh)
    local coredns=$cache/build/images/coredns/coredns
    [[ -x $coredns ]] || "$here/build-images.sh" >/dev/null
    rm -rf "$layer.partial" && mkdir -p "$layer.partial/uploads"
    install -m 0755 "$bin" "$layer.partial/agnhost"
    ln -s agnhost "$layer.partial/agnhost-2"
    install -m 0755 "$coredns" "$layer.partial/coredns"
    cp "$kdir/test/images/agnhost/porter/localhost.crt" "$kdir/test/images/agnhost/porter/localhost.key" "$layer.partial/"
    mv "$layer.partial" "$layer"
  fi
  # the second build differs in one small top layer, so its digest does too (the e2e
  # suite tells them apart) while both share every other layer
  rm -rf "$work/layer-$variant" && mkdir -p "$work/layer-$variant"
  echo "$variant" > "$work/layer-$variant/.k8s-lab-build"
  tools_userland
}
agnhost() {
  local tag=$1 variant=$2 file=$each/agnhost-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  agnhost_layers "$variant"
  "$tool" -tag "$tag" "${USERLAND[@]}" -dir "$work/layer-agnhost" -dir "$work/layer-$variant" -entrypoint /agnhost -cmd pause -out "$file"
}

# nautilus: kubectl's Update Demo page, as upstream's: agnhost's test-webserver serving /
# with the release's nautilus.jpg and data.json (a layer over the agnhost image)
nautilus() {
  local tag=$1 file=$each/nautilus-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  agnhost_layers current
  rm -rf "$work/layer-nautilus" && mkdir -p "$work/layer-nautilus"
  cp "$kdir/test/images/nautilus/html/nautilus.jpg" "$kdir/test/images/nautilus/html/data.json" "$work/layer-nautilus/"
  "$tool" -tag "$tag" "${USERLAND[@]}" -dir "$work/layer-agnhost" -dir "$work/layer-current" -dir "$work/layer-nautilus" -entrypoint /agnhost -cmd test-webserver -out "$file"
}

# a static Go program at PATH in an image over the test userland (user and /tmp as upstream's)
program_image() {
  local tag=$1 file=$2 bin=$3 at=$4; shift 4
  local layer
  layer=$work/layer-$(basename "$file" .tar)
  tools_userland
  rm -rf "$layer" && mkdir -p "$layer/$(dirname "$at")"
  install -m "${MODE:-0755}" "$bin" "$layer/$at"
  "$tool" -tag "$tag" "${USERLAND[@]}" -dir "$layer" "$@" -out "$file"
}

# sample-apiserver: the Aggregator test's extension apiserver, k8s.io/sample-apiserver at the
# version the release's e2e module uses (its clients are generated from it; upstream's image
# under this tag is an older build of the same program)
sample_apiserver() {
  local tag=$1 file=$each/sample-apiserver-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  local bin
  bin=$(stage_bin sample-apiserver k8s.io/sample-apiserver)
  program_image "$tag" "$file" "$bin" /sample-apiserver -entrypoint /sample-apiserver
}

# etcd: the sample-apiserver's storage in the Aggregator test (/usr/local/bin/etcd): the
# lab's own etcd release file (build-release-files.sh) under the tag the test asks for
etcd_image() {
  local tag=$1 file=$each/etcd-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  local tarball
  tarball=$(find "$cache/artifacts" -maxdepth 1 -name 'etcd-v*-linux-amd64.tar.gz' | head -n 1)
  [[ -n $tarball ]] || { echo "conformance kit: no etcd release file in $cache/artifacts (npm run lab:build)" >&2; exit 1; }
  rm -rf "$work/etcd-release" && mkdir -p "$work/etcd-release"
  tar -xzf "$tarball" -C "$work/etcd-release"
  program_image "$tag" "$file" "$(find "$work/etcd-release" -type f -name etcd | head -n 1)" /usr/local/bin/etcd
}

# nonewprivs: the release's nnp (prints its effective uid), setuid root as upstream's, so
# allowPrivilegeEscalation decides whether it runs as root
nonewprivs() {
  local tag=$1 file=$each/nonewprivs-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  local bin
  bin=$(stage_bin nnp k8s.io/kubernetes/test/images/nonewprivs)
  MODE=4755 program_image "$tag" "$file" "$bin" /usr/local/bin/nnp -cmd nnp
}

# busybox: Debian's busybox-static, with the applets linked
busybox() {
  local tag=$1 file=$each/busybox-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  local root=$work/busybox
  busybox_rootfs "$root"
  "$tool" -tag "$tag" -dir "$root" -cmd sh -out "$file"
}

# nginx: Debian's nginx-light over the test userland, serving its default page on port 80 in
# the foreground (its layer: what installing nginx-light adds)
nginx_image() {
  local tag=$1 file=$each/nginx-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  tools_userland
  debian_rootfs "$work/userland-tools-nginx" "$TOOLS_PACKAGES,nginx-light"
  [[ -d $work/layer-nginx ]] || { upper_dir "$work/userland-tools" "$work/userland-tools-nginx" "$work/layer-nginx.partial" && mv "$work/layer-nginx.partial" "$work/layer-nginx"; }
  "$tool" -tag "$tag" "${USERLAND[@]}" -dir "$work/layer-nginx" -entrypoint nginx -cmd "-g" -cmd "daemon off;" -out "$file"
}

# glibc-dns-testing: the DNS tests' resolver client (glibc, dig): the test userland itself
glibc_dns() {
  local tag=$1 file=$each/glibc-dns-testing-${1##*:}.tar
  parts+=("$file"); [[ -s $file ]] && return 0
  tools_userland
  "$tool" -tag "$tag" "${USERLAND[@]}" -cmd sh -out "$file"
}

# (each reference on its own line: a name the release lacks stops the build here)
agnhost_ref=$(image Agnhost)
agnhost_prev_ref=$(image AgnhostPrev)
busybox_ref=$(image BusyBox)
nginx_ref=$(image Nginx)
nginx_new_ref=$(image NginxNew)
glibc_dns_ref=$(image GlibcDnsTesting)
nautilus_ref=$(image Nautilus)
sample_apiserver_ref=$(image APIServer)
etcd_ref=$(image Etcd)
nonewprivs_ref=$(image Nonewprivs)
# each image's function adds its archive to parts: the merged archive holds exactly those
parts=()
timed "agnhost" agnhost "$agnhost_ref" current
timed "agnhost (AgnhostPrev)" agnhost "$agnhost_prev_ref" previous
timed "busybox" busybox "$busybox_ref"
timed "nginx" nginx_image "$nginx_ref"
timed "nginx (NginxNew)" nginx_image "$nginx_new_ref"
timed "glibc-dns-testing" glibc_dns "$glibc_dns_ref"
# the full suite's besides (every [Conformance] test but [Serial]/[Disruptive] ones)
timed "nautilus" nautilus "$nautilus_ref"
timed "sample-apiserver" sample_apiserver "$sample_apiserver_ref"
timed "etcd" etcd_image "$etcd_ref"
timed "nonewprivs" nonewprivs "$nonewprivs_ref"
merged=$out/images/conformance-images.tar
stale=$([[ -s $merged ]] || echo missing)
for p in "${parts[@]}"; do [[ $p -nt $merged ]] && stale=newer; done
if [[ -n $stale ]]; then
  merge_args=()
  for p in "${parts[@]}"; do merge_args+=(-merge "$p"); done
  timed "one archive of the ${#parts[@]}" "$tool" -out "$merged.partial" "${merge_args[@]}" >&2
  mv "$merged.partial" "$merged"
fi
ls -la "$out" "$out/images" "$each" >&2
echo "$out"
