# shellcheck shell=bash
# shellcheck disable=SC2154 # run, NS and CLUSTER are e2e.sh's
# The second libvirt host of `E2E_HOSTS=2 npm run lab:e2e`, sourced by e2e.sh: a network
# namespace of its own (klab-hv2) joined to the first host's (klab-e2e) by a veth pair that
# stands for the wire between two machines (10.254.0.1 — 10.254.0.2; no packet leaves the
# machine), with its own virtlogd, libvirtd and sshd in a private mount namespace (its own
# /etc/libvirt, /var/lib/libvirt, /run/libvirt, /var/cache/libvirt), so the program reaches
# it as a remote host: qemu+ssh://root@10.254.0.2/system with a key of the run.
# Needs from e2e.sh: $run, $NS, $CLUSTER.
HV2_NS=klab-hv2
HV1_ADDR=10.254.0.1
HV2_ADDR=10.254.0.2
hv2_dir=/var/lib/klab-hv2 # QEMU's own user must reach the pool: not under /root
hv2_uri() { echo "qemu+ssh://root@$HV2_ADDR/system?keyfile=$run/hv2-key&no_verify=1"; }

# a command inside the second host: its network and its mount namespace (libvirtd's)
on_hv2() { nsenter --net=/run/netns/$HV2_NS --mount="/proc/$(cat "$hv2_dir/libvirtd.pid")/ns/mnt" "$@"; }
hv2_virsh() { on_hv2 virsh -q -c qemu:///system "$@"; }

hv2_start() {
  hv2_stop
  mkdir -p "$hv2_dir"/{etc,lib/images,run,cache,log,ssh}
  cp -a /etc/libvirt/. "$hv2_dir/etc/"
  rm -rf "$hv2_dir/etc/qemu/networks/autostart" "$hv2_dir"/etc/qemu/networks/*.xml "$hv2_dir"/etc/qemu/*.xml "$hv2_dir"/etc/storage/*.xml
  printf 'log_outputs="1:file:%s/log/virtlogd.log"\n' "$hv2_dir" > "$hv2_dir/virtlogd.conf"
  printf 'listen_tls = 0\nlisten_tcp = 0\nauth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "2:file:%s/log/libvirtd.log"\n' "$hv2_dir" > "$hv2_dir/libvirtd.conf"
  # the wire
  ip netns add $HV2_NS
  ip link add wire-hv1 netns "$NS" type veth peer name wire-hv2 netns $HV2_NS
  ip -n "$NS" addr add $HV1_ADDR/24 dev wire-hv1
  ip -n $HV2_NS addr add $HV2_ADDR/24 dev wire-hv2
  ip -n "$NS" link set wire-hv1 up
  ip -n $HV2_NS link set lo up
  ip -n $HV2_NS link set wire-hv2 up
  # root's key for the program (libvirt's qemu+ssh and the tunnel step), and sshd's host key
  rm -f "$run/hv2-key" "$run/hv2-key.pub"
  ssh-keygen -q -t ed25519 -N '' -C klab-hv2 -f "$run/hv2-key"
  cp "$run/hv2-key.pub" "$hv2_dir/ssh/authorized_keys"
  ssh-keygen -q -t ed25519 -N '' -f "$hv2_dir/ssh/host_key"
  cat > "$hv2_dir/ssh/sshd_config" <<EOF
ListenAddress $HV2_ADDR
HostKey $hv2_dir/ssh/host_key
AuthorizedKeysFile $hv2_dir/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
PidFile $hv2_dir/sshd.pid
StrictModes no
EOF
  mkdir -p /run/sshd
  ip netns exec $HV2_NS unshare --mount --propagation private bash -euo pipefail -c "
    mount --bind $hv2_dir/etc /etc/libvirt
    mount --bind $hv2_dir/lib /var/lib/libvirt
    mount --bind $hv2_dir/run /run/libvirt
    mount --bind $hv2_dir/cache /var/cache/libvirt
    virtlogd -d -f $hv2_dir/virtlogd.conf -p $hv2_dir/virtlogd.pid
    libvirtd -d -f $hv2_dir/libvirtd.conf -p $hv2_dir/libvirtd.pid
    /usr/sbin/sshd -f $hv2_dir/ssh/sshd_config"
  for _ in $(seq 120); do [[ -s $hv2_dir/libvirtd.pid ]] && hv2_virsh version >/dev/null 2>&1 && break; sleep 1; done
  # as the program will: over SSH from the first host
  ip netns exec "$NS" virsh -q -c "$(hv2_uri)" uri >/dev/null || { echo "lab:e2e: the second host does not answer at $(hv2_uri)" >&2; return 1; }
  echo "  the second host answers at $(hv2_uri)" >&2
}

# what is left of the lab on the second host: its domains, network, pool, tunnel end
hv2_leftovers() {
  [[ -s $hv2_dir/libvirtd.pid ]] || return 0
  { hv2_virsh list --all --name; hv2_virsh net-list --all --name; hv2_virsh pool-list --all --name; } 2>/dev/null | grep "^$CLUSTER" || true
  ip -n $HV2_NS -o link show 2>/dev/null | grep -o "vx-$CLUSTER" || true
}

# the files in the second host's pool (its disks, seeds, base image)
hv2_pool_files() { ls -A "$hv2_dir/lib/images/$CLUSTER" 2>/dev/null || true; }

hv2_stop() {
  local d p
  if [[ -s $hv2_dir/libvirtd.pid ]] && kill -0 "$(cat "$hv2_dir/libvirtd.pid")" 2>/dev/null; then
    for d in $(hv2_virsh list --all --name 2>/dev/null | grep "^$CLUSTER-" || true); do hv2_virsh destroy "$d" >/dev/null 2>&1 || true; hv2_virsh undefine "$d" >/dev/null 2>&1 || true; done
  fi
  for p in sshd libvirtd virtlogd; do [[ -s $hv2_dir/$p.pid ]] && kill "$(cat "$hv2_dir/$p.pid")" 2>/dev/null || true; done
  sleep 1
  if ip netns exec $HV2_NS true 2>/dev/null; then ip netns pids $HV2_NS | xargs -r kill -9; ip netns del $HV2_NS; fi
  rm -rf "$hv2_dir"
}
