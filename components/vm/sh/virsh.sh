# shellcheck shell=bash
set -euo pipefail
virsh() { command virsh --quiet -c "$LIBVIRT_URI" "$@"; }
virsh uri >/dev/null 2>&1 || { echo "cannot reach libvirt at $LIBVIRT_URI (is libvirtd running?); nothing was changed" >&2; exit 1; }
