#!/usr/bin/env bash
# customize-rootfs.sh ROOT RELEASE — mmdebstrap's customize hook for build-rootfs.sh.
#
# Makes the Debian root look like a fresh Raspberry Pi OS image, in what labgen depends on:
# hostname raspberrypi, the boot partition at /boot/firmware, no user (none since 2022), no
# SSH host keys (made on first boot) and sshd disabled until the boot partition asks for it,
# NetworkManager with no connection profile. Stand-ins for raspberrypi-sys-mods' first-boot
# pieces come from rootfs/ beside this script (common/ and RELEASE/).
set -euo pipefail

root=$1 release=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

copy_tree() {
  [ -d "$1" ] || return 0
  # owned by root whoever checked the repo out; --no-overwrite-dir keeps the modes of /usr etc.
  tar -C "$1" --owner=0 --group=0 -cf - . | tar -C "$root" -xf - --no-overwrite-dir
}
copy_tree "$here/rootfs/common"
copy_tree "$here/rootfs/$release"

echo raspberrypi >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\traspberrypi\n' >"$root/etc/hosts"
chmod 644 "$root/etc/hostname" "$root/etc/hosts"

mkdir -p "$root/boot/firmware"
cat >"$root/etc/fstab" <<'FSTAB'
proc            /proc           proc    defaults          0       0
LABEL=bootfs    /boot/firmware  vfat    defaults          0       2
LABEL=rootfs    /               ext4    defaults,noatime  0       1
FSTAB

# Pi OS images carry no host keys; first boot makes them (regenerate_ssh_host_keys)
rm -f "$root"/etc/ssh/ssh_host_*_key*
systemctl --root="$root" --quiet disable ssh.service
systemctl --root="$root" --quiet enable regenerate_ssh_host_keys.service sshswitch.service
systemctl --root="$root" --quiet enable NetworkManager.service
# What labgen's setup.sh installs is here already (guests have no network) but off, as on a Pi
# that never had it: setup.sh enables and starts it on the Pis whose roles need it.
systemctl --root="$root" --quiet disable prometheus-node-exporter.service munge.service \
  slurmd.service slurmctld.service nfs-server.service nfs-client.target apt-cacher-ng.service \
  rpcbind.service rpcbind.socket
# no connection profiles: an unconfigured Pi gets NetworkManager's automatic DHCP one
find "$root/etc/NetworkManager/system-connections" -mindepth 1 -delete

if [ "$release" = trixie ]; then
  # pi-gen installs it so (NetworkManager takes every netplan config)
  chmod 600 "$root/usr/lib/netplan/00-network-manager-all.yaml"
  # no default user either: pi-gen drops cloud-init's `users: [default]`
  sed -i '/^users:/{N;/\n *- default$/d}' "$root/etc/cloud/cloud.cfg"
  if grep -q '^users:' "$root/etc/cloud/cloud.cfg"; then
    echo "customize-rootfs: cloud.cfg still names users" >&2
    exit 1
  fi
fi
