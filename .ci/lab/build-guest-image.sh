#!/usr/bin/env bash
# A bootable Debian 12 guest disk for the lab, from Debian's packages only: a 2 GiB GPT
# disk (BIOS-boot partition + ext4 root) with GRUB, the cloud kernel, cloud-init (NoCloud),
# OpenSSH, and every package node prep installs already inside (guests here reach no
# mirror, so the lab stack sets skipPackageInstall). Output: $CACHE/images/<name>.qcow2
# and its sha256 beside it. Skipped when it exists. Needs root (loop devices, chroot).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
# the packages node prep wants, from the program itself (npm run lab:build compiles it first)
prep_packages=$(node --require tsx/cjs -p 'require(process.argv[1]).IMAGE_PACKAGES.debian.join(",")' "$here/../../components/node-prep/prep.ts")
base="linux-image-cloud-amd64,grub-pc-bin,grub2-common,initramfs-tools,systemd-sysv,systemd-resolved,udev,dbus,kmod,e2fsprogs,procps,iproute2,netbase,sudo,openssh-server,cloud-init,cloud-guest-utils,ca-certificates,nftables,ebtables,ethtool,less"
name=debian-12-k8s-lab-$(printf '%s\n%s\n%s\n' "$base" "$prep_packages" "$(sha256sum "$0" | cut -c1-16)" | sha256sum | cut -c1-12)
out=$cache/images/$name.qcow2
if [[ -s $out && -s $out.sha256 ]]; then echo "$out"; exit 0; fi
[[ $(id -u) -eq 0 ]] || { echo "guest image: needs root (loop devices, chroot)" >&2; exit 1; }
for t in mmdebstrap partx sgdisk qemu-img mkfs.ext4; do
  command -v "$t" >/dev/null || { echo "guest image: $t is missing (apt-get install mmdebstrap util-linux gdisk qemu-utils e2fsprogs)" >&2; exit 1; }
done
mkdir -p "$cache/images"
work=$(mktemp -d "$cache/images/tmp.XXXXXX")
loop=
cleanup() {
  set +e
  for m in dev/pts dev proc sys; do mountpoint -q "$work/mnt/$m" && umount "$work/mnt/$m"; done
  mountpoint -q "$work/mnt" && umount "$work/mnt"
  [[ -n $loop ]] && { partx -d "$loop"; losetup -d "$loop"; }
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/rootfs

# 1. root file system from the host's own apt sources (the registries this machine reaches)
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list
# the initramfs must carry fsck for ext4 (written before the kernel is installed), or the
# root is mounted unchecked
mmdebstrap --quiet --variant=apt --include="$base,$prep_packages" \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo FSTYPE=ext4 > "$1/etc/initramfs-tools/conf.d/fstype"' \
  --customize-hook='echo "k8s-lab" > "$1/etc/hostname"' \
  bookworm "$root" "$sources"

# 2. image settings cloud-init and a clean first boot need
cat > "$root/etc/cloud/cloud.cfg.d/90-k8s-lab.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
locale: C.UTF-8
system_info:
  network:
    renderers: [ networkd ]
CFG
# the image has neither ifupdown nor netplan: cloud-init writes systemd-networkd files, and
# networkd (off by default on Debian) must run to bring the NIC up
chroot "$root" systemctl enable systemd-networkd.service systemd-resolved.service >/dev/null 2>&1
rm -f "$root/etc/resolv.conf"; ln -s ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
: > "$root/etc/machine-id"; rm -f "$root/var/lib/dbus/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
# Debian's nginx package starts nginx.service on port 80; the lab runs its own kube-nginx unit
chroot "$root" systemctl disable nginx.service >/dev/null 2>&1 || true
cat > "$root/etc/default/grub.d/90-k8s-lab.cfg" <<'CFG'
GRUB_TIMEOUT=1
GRUB_CMDLINE_LINUX_DEFAULT="console=tty0 console=ttyS0,115200n8 net.ifnames=0"
GRUB_TERMINAL="console serial"
CFG

# 3. a GPT disk: partition 14 BIOS boot, partition 1 the root file system
disk=$work/disk.raw
truncate -s 2G "$disk"
sgdisk -n 14:2048:+1M -t 14:ef02 -n 1:0:0 -t 1:8300 "$disk" >/dev/null
start=$(sgdisk -i 1 "$disk" | awk '/^First sector/ {print $3}')
end=$(sgdisk -i 1 "$disk" | awk '/^Last sector/ {print $3}')
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" > "$root/etc/fstab"
mkfs.ext4 -q -F -U "$uuid" -L k8s-lab-root -d "$root" "$work/root.ext4" "$(( (end - start + 1) / 2 ))k"
dd if="$work/root.ext4" of="$disk" bs=512 seek="$start" conv=notrunc,sparse status=none

# 4. GRUB into the disk, from a chroot on the mounted root partition
loop=$(losetup -f --show "$disk")
partx -a "$loop"
mkdir -p "$work/mnt"
mount "${loop}p1" "$work/mnt"
for m in dev dev/pts proc sys; do mount --bind "/$m" "$work/mnt/$m"; done
chroot "$work/mnt" grub-install --target=i386-pc --modules="part_gpt ext2" "$loop" 2>&1 | grep -v "^Installation finished" || true
chroot "$work/mnt" update-grub 2>/dev/null
# update-grub in a chroot names the loop device as root: boot by UUID instead
sed -i -E "s#root=/dev/loop[0-9]+p1#root=UUID=$uuid#g" "$work/mnt/boot/grub/grub.cfg"
grep -q "root=UUID=$uuid" "$work/mnt/boot/grub/grub.cfg" || { echo "guest image: grub.cfg does not boot by UUID" >&2; exit 1; }
for m in dev/pts dev proc sys; do umount "$work/mnt/$m"; done
umount "$work/mnt"
partx -d "$loop"; losetup -d "$loop"; loop=

# 5. compressed qcow2 and its digest
qemu-img convert -c -O qcow2 "$disk" "$out.partial"
mv "$out.partial" "$out"
(cd "$(dirname "$out")" && sha256sum "$(basename "$out")" > "$out.sha256")
echo "$out"
