# shellcheck shell=bash
# Read-only: for each "node domain disk" line of $MACHINES, whether libvirt at $LIBVIRT_URI
# still has the domain and the disk (in pool $POOL): "node present|absent present|absent".
# Two listings, whatever the number of nodes. "unreachable" alone when libvirt does not
# answer (then nothing can be said).
set -uo pipefail
virsh() { command virsh --quiet -c "$LIBVIRT_URI" "$@"; }
if ! domains=$(virsh list --all --name 2>/dev/null); then echo unreachable; exit 0; fi
# (no pool: no disk either)
volumes=$(virsh vol-list --pool "$POOL" 2>/dev/null | awk '{print $1}') || volumes=""
while read -r node domain disk; do
  [[ -n $node ]] || continue
  d=absent; if grep -qxF -- "$domain" <<<"$domains"; then d=present; fi
  v=absent; if grep -qxF -- "$disk" <<<"$volumes"; then v=present; fi
  echo "$node $d $v"
done <<<"$MACHINES"
