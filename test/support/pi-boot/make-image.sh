#!/usr/bin/env bash
# make-image.sh ROOTFS.tar RELEASE OUT.img
#
# A Raspberry Pi OS-like disk image from build-rootfs.sh's tarball, laid out as Pi OS's is:
# MBR, p1 FAT32 labelled bootfs (from sector 16384) with the firmware's config.txt and
# cmdline.txt, the kernel and the initramfs; p2 ext4 labelled rootfs. No loop devices, no
# mounts: each filesystem is made in a file (mkfs.vfat + mcopy, mke2fs -d) and copied in.
#
# Builds once: concurrent callers wait on OUT.lock; a killed build leaves only OUT.partial-*.
set -euo pipefail

tarball=$1 release=$2 out=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

exec 9>"$out.lock"
flock 9
[ -e "$out" ] && exit 0
rm -f "$out".partial-*

# sizes in MiB; p1 starts at sector 16384 = 8 MiB
boot_start=8 boot_size=512 root_size=4096
root_start=$((boot_start + boot_size))

work=$(mktemp -d "${TMPDIR:-/tmp}/labgen-pi-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/root" "$work/boot"
tar -C "$work/root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$tarball"

# the boot partition: what the firmware reads
cp "$work/root/boot/$(readlink "$work/root/vmlinuz" | sed 's|.*/||')" "$work/boot/vmlinuz"
cp "$work/root/boot/$(readlink "$work/root/initrd.img" | sed 's|.*/||')" "$work/boot/initrd.img"
cp "$here"/bootfs/common/* "$work/boot/"
[ -d "$here/bootfs/$release" ] && cp "$here/bootfs/$release"/* "$work/boot/"
cmdline='console=ttyS0 root=LABEL=rootfs rootfstype=ext4 fsck.repair=yes rootwait'
# Pi OS bookworm's first boot runs raspberrypi-sys-mods' firstboot instead of systemd
[ "$release" = bookworm ] && cmdline+=' init=/usr/lib/raspberrypi-sys-mods/firstboot'
printf '%s\n' "$cmdline" >"$work/boot/cmdline.txt"

mkfs.vfat -F 32 -n bootfs -C "$work/boot.img" $((boot_size * 1024)) >/dev/null # size in KiB
mcopy -i "$work/boot.img" -s "$work"/boot/* ::
mke2fs -q -t ext4 -L rootfs -d "$work/root" "$work/root.img" "${root_size}M" >/dev/null # "Creating regular file …"

partial="$out.partial-$$"
truncate -s "$(((root_start + root_size) * 1024 * 1024))" "$partial"
sfdisk --quiet "$partial" <<SFDISK
label: dos
label-id: 0x6c616230
unit: sectors
start=$((boot_start * 2048)), size=$((boot_size * 2048)), type=c
start=$((root_start * 2048)), size=$((root_size * 2048)), type=83
SFDISK
dd if="$work/boot.img" of="$partial" bs=1M seek="$boot_start" conv=notrunc,sparse status=none
dd if="$work/root.img" of="$partial" bs=1M seek="$root_start" conv=notrunc,sparse status=none
mv "$partial" "$out"
