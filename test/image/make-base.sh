#!/usr/bin/env bash
# A small stand-in for a Raspberry Pi OS image, made without root (no loop device, no mount), for
# test/image/ and bench/image.mjs: an MBR table as pi-gen writes it (p1 FAT32 "bootfs", type 0x0c;
# p2 ext4 "rootfs", type 0x83), cmdline.txt and config.txt in p1, and in p2 the release's
# /usr/lib/os-release (with /etc/os-release a symbolic link to it, as on Debian), a hostname, an
# /etc/ssh with sshd_config and the host key a stock image ships, and /home.
#
#   make-base.sh OUT RELEASE [--p1 SECTOR] [--size MIB] [--data MIB] [--allocated] [--no-cloud-init]
#
# --p1: where p1 starts (16384 as pi-gen writes since 2025, 8192 before); --size: the image size
# (default 96 MiB: p1 is 40 MiB, p2 the rest); --data: a file of that many MiB of random bytes
# in /opt (a base with real data in it); --allocated: every block of the file written (no holes),
# as a download that was not copied sparse. trixie images have cloud-init (a stand-in
# /usr/bin/cloud-init here), unless --no-cloud-init.
set -euo pipefail

out=$1 release=$2
shift 2
p1=16384 size=96 data=0 allocated=0 cloud_init=1
while (($#)); do
  case $1 in
    --p1) p1=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --allocated) allocated=1; shift ;;
    --no-cloud-init) cloud_init=0; shift ;;
    *) echo "make-base.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

case $release in
  bullseye) version=11 ;;
  bookworm) version=12 ;;
  trixie) version=13 ;;
  *) version=99 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

boot_sectors=$((40 * 2048))
p2=$((p1 + boot_sectors))
total_sectors=$((size * 2048))
root_sectors=$((total_sectors - p2))

rm -f "$out"
truncate -s "${size}M" "$out"
printf 'label: dos\nlabel-id: 0x3e247b30\nstart=%s, size=%s, type=c\nstart=%s, size=%s, type=83\n' \
  "$p1" "$boot_sectors" "$p2" "$root_sectors" | sfdisk -q "$out"

mkfs.vfat -F 32 -s 1 -n bootfs --offset "$p1" "$out" $((boot_sectors / 2)) >/dev/null 2>&1
printf 'console=serial0,115200 console=tty1 root=PARTUUID=3e247b30-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n' >"$work/cmdline.txt"
printf '[all]\ndtparam=audio=on\n' >"$work/config.txt"
MTOOLS_SKIP_CHECK=1 mcopy -i "$out@@$((p1 * 512))" "$work/cmdline.txt" "$work/config.txt" ::/

root=$work/root
mkdir -p "$root/usr/lib" "$root/etc/ssh/sshd_config.d" "$root/home" "$root/boot/firmware" "$root/opt"
printf 'PRETTY_NAME="Debian GNU/Linux %s (%s)"\nNAME="Debian GNU/Linux"\nVERSION_ID="%s"\nVERSION="%s (%s)"\nVERSION_CODENAME=%s\nID=debian\n' \
  "$version" "$release" "$version" "$version" "$release" "$release" >"$root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$root/etc/os-release"
echo raspberrypi >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n' >"$root/etc/hosts"
printf 'Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n' >"$root/etc/ssh/sshd_config"
# a stock image's own host key (pi-gen removes it, the first boot makes one): labgen must replace it
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nnot the lab key\n-----END OPENSSH PRIVATE KEY-----\n' >"$root/etc/ssh/ssh_host_ed25519_key"
chmod 600 "$root/etc/ssh/ssh_host_ed25519_key"
if [ "$release" = trixie ] && ((cloud_init)); then
  mkdir -p "$root/usr/bin"
  printf '#!/bin/sh\n# stand-in: cloud-init is not run here\nexit 0\n' >"$root/usr/bin/cloud-init"
  chmod 755 "$root/usr/bin/cloud-init"
fi
if ((data > 0)); then head -c "$((data * 1024 * 1024))" /dev/urandom >"$root/opt/data"; fi
mke2fs -q -F -t ext4 -L rootfs -d "$root" -E offset=$((p2 * 512)) "$out" $((root_sectors / 2))k

if ((allocated)); then
  cp --sparse=never "$out" "$work/allocated"
  mv "$work/allocated" "$out"
fi
