# shellcheck shell=bash
# shellcheck disable=SC2154 # run, NS, CLUSTER, pool and guest are e2e.sh's
# `E2E_EXISTING=1 npm run lab:e2e`: machines the program did not make. Sourced by e2e.sh.
# The script itself starts three guests from the guest image, with libvirt's own tools and
# a seed of its own (a login user with passwordless sudo and a key, a hostname: nothing
# else — no swap, module or sysctl setting the program's seeds carry), on a NAT network
# with a fixed address per MAC; the stack then uses them with hostMode: existing. Before the
# first up and after the destroy each machine is photographed (every file outside the
# kernel's and the journal's trees with its size and digest, the unit files, the installed
# packages, the loaded modules, the sysctls the program sets); the destroy must leave the
# machines running and each photograph as it was, but for the lines explained below.
EXISTING_IPS=(192.168.253.140 192.168.253.139 192.168.253.141)

own_virsh() { ip netns exec "$NS" virsh -q -c qemu:///system "$@"; }

# the guests, as someone who is not this program would make them
existing_start() {
  local i name ip mac tmp
  rm -f "$run/own-key" "$run/own-key.pub"
  ssh-keygen -q -t ed25519 -N '' -C own-machines -f "$run/own-key"
  tmp=$(mktemp -d)
  cat > "$tmp/net.xml" <<EOF
<network><name>$CLUSTER</name><forward mode="nat"/><bridge name="br-own" stp="on" delay="0"/>
<ip address="192.168.253.1" netmask="255.255.255.0"><dhcp><range start="192.168.253.200" end="192.168.253.250"/>
$(for i in 0 1 2; do printf '<host mac="52:54:00:ee:00:%02x" name="k8s-%d" ip="%s"/>\n' $((i + 1)) $((i + 1)) "${EXISTING_IPS[i]}"; done)
</dhcp></ip></network>
EOF
  own_virsh net-define "$tmp/net.xml" >/dev/null && own_virsh net-start "$CLUSTER" >/dev/null
  mkdir -p "$pool"
  printf '<pool type="dir"><name>%s</name><target><path>%s</path></target></pool>\n' "$CLUSTER" "$pool" > "$tmp/pool.xml"
  own_virsh pool-define "$tmp/pool.xml" >/dev/null && own_virsh pool-start "$CLUSTER" >/dev/null
  cp "$guest" "$pool/own-base.qcow2"
  own_virsh pool-refresh "$CLUSTER" >/dev/null
  for i in 0 1 2; do
    name=k8s-$((i + 1)) ip=${EXISTING_IPS[i]} mac=$(printf '52:54:00:ee:00:%02x' $((i + 1)))
    own_virsh vol-create-as "$CLUSTER" "own-$name.qcow2" 10G --format qcow2 --backing-vol own-base.qcow2 --backing-vol-format qcow2 >/dev/null
    mkdir -p "$tmp/$name"
    cat > "$tmp/$name/user-data" <<EOF
#cloud-config
hostname: $name
users:
  - name: k8s
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    shell: /bin/bash
    ssh_authorized_keys: ["$(cat "$run/own-key.pub")"]
EOF
    printf 'instance-id: own-%s\nlocal-hostname: %s\n' "$name" "$name" > "$tmp/$name/meta-data"
    genisoimage -quiet -output "$pool/own-$name-seed.iso" -volid cidata -joliet -rock "$tmp/$name/user-data" "$tmp/$name/meta-data"
    cat > "$tmp/$name.xml" <<EOF
<domain type="qemu"><name>$CLUSTER-own-$name</name><memory unit="MiB">2048</memory><vcpu>2</vcpu>
<os><type arch="x86_64">hvm</type><boot dev="hd"/></os><features><acpi/><apic/></features>
<devices>
<disk type="file" device="disk"><driver name="qemu" type="qcow2"/><source file="$pool/own-$name.qcow2"/><target dev="vda" bus="virtio"/></disk>
<disk type="file" device="disk"><driver name="qemu" type="raw"/><source file="$pool/own-$name-seed.iso"/><target dev="vdb" bus="virtio"/><readonly/></disk>
<interface type="network"><mac address="$mac"/><source network="$CLUSTER"/><model type="virtio"/></interface>
<serial type="pty"/><console type="pty"/><rng model="virtio"><backend model="random">/dev/urandom</backend></rng>
</devices></domain>
EOF
    own_virsh define "$tmp/$name.xml" >/dev/null && own_virsh start "$CLUSTER-own-$name" >/dev/null
  done
  rm -rf "$tmp"
  for ip in "${EXISTING_IPS[@]}"; do
    for _ in $(seq 120); do own_ssh "$ip" "cloud-init status --wait >/dev/null 2>&1; true" 2>/dev/null && break; sleep 5; done
    own_ssh "$ip" true || { echo "lab:e2e: the machine at $ip does not answer SSH" >&2; return 1; }
  done
  echo "  three machines made outside the program answer SSH as k8s@ (192.168.253.140, .139, .141)" >&2
}

own_ssh() { local ip=$1; shift; ip netns exec "$NS" ssh -i "$run/own-key" -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "k8s@$ip" "$@"; }

# a machine's photograph: what the program could have left behind (every entry outside the
# kernel's and the journal's trees with its type, mode and owner; the md5 of every file where
# the program writes; units, packages, modules, sysctls, swap, mounts)
photograph() {
  own_ssh "$1" 'sudo bash -s' <<'EOF'
set -euo pipefail
prune=(\( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp -o -path /var/log/journal -o -path /var/cache -o -path /home/k8s \) -prune)
echo "## entries"; find / -xdev "${prune[@]}" -o -printf '%y %m %u:%g %p\n' | sort -k4
# contents where the program writes (every release file, unit and config): md5 of each file
echo "## digests"; find /etc /usr/local /opt /var /root /srv -xdev "${prune[@]}" -o -type f -print0 | xargs -0 -r md5sum | sort -k2
echo "## unit files"; systemctl list-unit-files --no-legend --no-pager | sort
echo "## units running"; systemctl list-units --state=running --no-legend --no-pager --plain | awk '{print $1}' | sort
echo "## packages"; dpkg-query -W -f '${Package} ${Version}\n' | sort
echo "## modules"; lsmod | awk 'NR > 1 {print $1}' | sort
echo "## sysctls"; sysctl net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables 2>/dev/null || true
echo "## swap"; swapon --show --noheadings
echo "## mounts"; findmnt -rn -o TARGET | sort
echo "## cluster processes"; ps -eo comm= | grep -Ex 'etcd|kube-.*|kubelet|containerd.*|runc|pause|coredns|nginx|haproxy' | sort -u || true
echo "## links"; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
echo "## iptables"; if command -v iptables-save >/dev/null; then iptables-save | { grep -v '^#' || true; } | sed -E 's/ \[[0-9]+:[0-9]+\]$//'; else echo "(no iptables-save)"; fi
EOF
}

# kernel state a running machine keeps until it reboots (loaded modules, the sysctls of a
# loaded module, leftover links and packet-filter tables): reported right after the destroy,
# compared after a reboot
RUNTIME_SECTIONS=(modules sysctls links iptables)
section() { awk -v want="## $1" '/^## / { s = ($0 == want); next } s' "$2"; } # section NAME PHOTOGRAPH
without_runtime() { awk -v drop="${RUNTIME_SECTIONS[*]}" 'BEGIN { n = split(drop, d, " "); for (i = 1; i <= n; i++) skip["## " d[i]] = 1 } /^## / { s = ($0 in skip) } !s' "$1"; }

existing_photograph_all() { # existing_photograph_all SUFFIX
  local ip
  for ip in "${EXISTING_IPS[@]}"; do photograph "$ip" > "$run/machine-$ip.$1"; done
}

# what differs between a machine before the first up and after the destroy, but for what
# running a machine changes by itself (its logs, caches, timers, DHCP lease, random seed…)
machine_diff() { # machine_diff BEFORE AFTER
  # the logs are the machine's, but for the pods' and the control plane's
  # (diff says 1 when they differ: that is what is asked, no failure under pipefail)
  { diff "$1" "$2" || (($? == 1)); } | awk '
    !/^[<>]/ { next }
    / \/var\/log\// && !/ \/var\/log\/(pods|containers|kubernetes)(\/|$)/ { next }
    / \/var\/lib\/(dhcp|systemd|cloud|private|sudo|logrotate|apt\/(lists|periodic|daily_lock)|dpkg\/(lock|triggers\/Lock)|chrony)/ { next }
    / \/etc\/(ld\.so\.cache|machine-id|adjtime)$/ || / \/root\/\./ || / \/var\/spool\// { next }
    # the daily job of apt (apt-daily.timer) keeps a copy of its package states, and its lock
    / \/var\/backups\/apt\.extended_states/ { next }
    { print }'
}

# existing_compare SUFFIX [runtime]: each machine's photograph SUFFIX against before the first
# up; the kernel's runtime state only reported unless "runtime" asks for it too
existing_compare() {
  local ip diffs runtime bad=0
  for ip in "${EXISTING_IPS[@]}"; do
    if [[ ${2:-} == runtime ]]; then
      # a module loaded at the first boot and not since (the seed's ISO filesystem) is not the
      # cluster's: only modules loaded now and not then count
      diffs=$(machine_diff "$run/machine-$ip.before" "$run/machine-$ip.$1" | grep -vxF -f <(section modules "$run/machine-$ip.before" | sed 's/^/< /'; echo '< (none)') || true)
    else
      diffs=$(machine_diff <(without_runtime "$run/machine-$ip.before") <(without_runtime "$run/machine-$ip.$1"))
      runtime=$(machine_diff "$run/machine-$ip.before" "$run/machine-$ip.$1" | grep -vxF -f <(printf '%s\n' "$diffs") || true)
      [[ -z $runtime ]] || { echo "  $ip: kernel state until its next boot (modules, sysctls, links, packet filter):" >&2; sed 's/^/    /' <<<"$runtime" | head -n 40 >&2; }
    fi
    if [[ -n $diffs ]]; then
      bad=1
      echo "  $ip ($1): not as before the first up:" >&2
      sed 's/^/    /' <<<"$diffs" | head -n 60 >&2
    else
      echo "  ok: $ip ($1) is as it was before the first up ($(grep -c . "$run/machine-$ip.$1") lines compared: entries, file digests, unit files, running units, packages, swap, mounts, cluster processes$([[ ${2:-} == runtime ]] && echo ", modules, sysctls, links, packet filter"))" >&2
    fi
  done
  return $bad
}

# every machine rebooted, back when SSH and cloud-init are
existing_reboot_all() {
  local ip
  for ip in "${EXISTING_IPS[@]}"; do own_ssh "$ip" 'sudo systemctl reboot' >/dev/null 2>&1 || true; done
  sleep 20
  for ip in "${EXISTING_IPS[@]}"; do
    for _ in $(seq 120); do own_ssh "$ip" "cloud-init status --wait >/dev/null 2>&1; true" 2>/dev/null && break; sleep 5; done
    own_ssh "$ip" true || { echo "lab:e2e: the machine at $ip does not answer SSH after its reboot" >&2; return 1; }
  done
}
