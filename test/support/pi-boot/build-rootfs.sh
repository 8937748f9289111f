#!/usr/bin/env bash
# build-rootfs.sh RELEASE MIRROR OUT.tar
#
# The root filesystem of a Raspberry Pi OS-like test guest (amd64: the x86 stand-in for the
# Pi's arm board), as a tarball: Debian RELEASE from MIRROR with what Raspberry Pi OS ships
# that labgen relies on, made to look like Pi OS by customize-rootfs.sh. Guests have no
# network, so the packages labgen's setup.sh installs on a Pi are already in.
#
# Builds once: concurrent callers wait on OUT.lock and find OUT made; a killed build leaves
# only OUT.partial-*, which the next build removes.
set -euo pipefail

release=$1 mirror=$2 out=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

exec 9>"$out.lock"
flock 9
[ -e "$out" ] && exit 0
rm -f "$out".partial-*

packages=(
  # what boots: systemd, the cloud kernel (virtio as modules, hence the initramfs)
  systemd systemd-sysv udev dbus kmod linux-image-cloud-amd64 initramfs-tools e2fsprogs fdisk
  # what Raspberry Pi OS has and labgen uses: sshd (off by default), NetworkManager, sudo, ip
  openssh-server openssh-sftp-server network-manager sudo iproute2
  # what labgen's setup.sh installs on Pis (generator/plan/pi/*.ts `packages:`)
  prometheus-node-exporter munge slurm-client slurmd slurmctld nfs-kernel-server apt-cacher-ng
)
if [ "$release" = trixie ]; then
  # Raspberry Pi OS trixie does its first boot with cloud-init, network config through netplan
  packages+=(cloud-init netplan.io)
fi

IFS=,
include="${packages[*]}"
unset IFS

# FSTYPE before the kernel package builds the initramfs: at build time there is no root
# device to look at, and without it the initramfs has no fsck.ext4 (root would not be checked).
# shellcheck disable=SC2016 # "$1" is for the hook's shell: mmdebstrap passes the root there
essential_hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo FSTYPE=ext4 >"$1/etc/initramfs-tools/conf.d/fstype"'
customize_hook="bash $(printf %q "$here/customize-rootfs.sh") \"\$1\" $(printf %q "$release")"

partial="$out.partial-$$"
mmdebstrap --quiet --variant=minbase --arch=amd64 --format=tar \
  --aptopt='APT::Install-Recommends "false"' \
  --include="$include" \
  --essential-hook="$essential_hook" \
  --customize-hook="$customize_hook" \
  "$release" "$partial" "$mirror"
mv "$partial" "$out"
