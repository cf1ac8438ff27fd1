# shellcheck shell=bash
# Sourced by the lab's image builds: the root file systems images are made of, from Debian's
# packages only.

# busybox_rootfs DIR: Debian's busybox-static with its applets linked, root and nobody
busybox_rootfs() {
  local dir=$1 a
  dpkg -s busybox-static >/dev/null 2>&1 || apt-get install -y -qq busybox-static >/dev/null
  rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$dir/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
}

# debian_rootfs DIR PACKAGES: a Debian 12 minbase root file system with those packages
# (comma-separated), without apt's caches and the docs; kept once made
debian_rootfs() {
  local dir=$1 packages=$2
  [[ -d $dir/usr ]] && return 0
  command -v mmdebstrap >/dev/null || apt-get install -y -qq mmdebstrap >/dev/null
  rm -rf "$dir.partial"
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc "$1"/usr/share/man' \
    bookworm "$dir.partial" >&2
  mv "$dir.partial" "$dir"
}

# upper_dir BASE FULL OUT: the files of FULL that BASE lacks or has otherwise (by content),
# into OUT, with every directory of FULL (empty ones are part of a package too): the layer
# that turns an image of BASE into one of FULL (nothing FULL removed)
upper_dir() {
  local base=$1 full=$2 out=$3
  command -v rsync >/dev/null || apt-get install -y -qq rsync >/dev/null
  rm -rf "$out" && mkdir -p "$out"
  rsync -a --checksum --compare-dest="$(cd "$base" && pwd)" "$full/" "$out/"
}

# imagetool_bin: imagetool/ built from its current source, once per version of that source
# (a binary cached under one name would keep writing images the old way)
imagetool_bin() {
  local src sum bin
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/imagetool" && pwd)
  sum=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)
  bin=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}/build/images/imagetool-$sum
  [[ -x $bin ]] || (mkdir -p "$(dirname "$bin")" && cd "$src" && go build -trimpath -o "$bin" .)
  echo "$bin"
}
