# shellcheck shell=bash
# One host's end of the tunnel between the hosts' node networks, run as root on the host
# with DEV, BRIDGE, VNI, LOCAL, REMOTES (space-separated) and MTU set before it.
set -euo pipefail
: "${DEV:?}" "${BRIDGE:?}" "${VNI:?}" "${LOCAL:?}" "${MTU:?}"
remotes=()
read -r -a remotes <<<"${REMOTES:-}"

# a VXLAN device on the node network's bridge, flooding to every other host: make it, or
# make it again when its id or local address differ; keep exactly the remotes given
tunnel_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    echo "the node network's bridge $BRIDGE is not on $(hostname): is the lab network started there (virsh net-start)?" >&2
    exit 1
  fi
  if ! ip -d link show "$DEV" 2>/dev/null | grep -q "vxlan id $VNI local $LOCAL "; then
    ip link del "$DEV" 2>/dev/null || true
    ip link add "$DEV" type vxlan id "$VNI" local "$LOCAL" dstport 4789
  fi
  local have r
  have=$(bridge fdb show dev "$DEV" | awk '$1 == "00:00:00:00:00:00" { for (i = 2; i < NF; i++) if ($i == "dst") print $(i + 1) }')
  for r in $have; do
    [[ " ${remotes[*]} " == *" $r "* ]] || bridge fdb del 00:00:00:00:00:00 dev "$DEV" dst "$r"
  done
  for r in "${remotes[@]}"; do
    grep -qx "$r" <<<"$have" || bridge fdb append 00:00:00:00:00:00 dev "$DEV" dst "$r"
  done
  ip link set "$DEV" mtu "$MTU" master "$BRIDGE" up
  echo "tunnel $DEV (VXLAN $VNI) on $BRIDGE: $LOCAL to ${remotes[*]}"
}

tunnel_down() {
  ip link del "$DEV" 2>/dev/null || true
}
