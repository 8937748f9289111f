#!/usr/bin/env bash
# customize.sh ROOTFS PUBKEY: build-box.sh's last step inside the new root (mmdebstrap customize hook).
set -euo pipefail
root=$1 pubkey=$2
inside() { chroot "$root" "$@"; }

inside useradd --create-home --shell /bin/bash vagrant
install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$pubkey" "$root/home/vagrant/.ssh/authorized_keys"
[ "$(inside id -u vagrant)" = 1000 ] || { echo "customize.sh: vagrant is not uid 1000" >&2; exit 1; }
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/vagrant"
chmod 0440 "$root/etc/sudoers.d/vagrant"
echo 'UseDNS no' >"$root/etc/ssh/sshd_config.d/vagrant.conf"

# host keys are made on each VM's first boot, not shared by every VM of the box: ed25519 only
# (labgen pins and installs an ed25519 key; an RSA key takes long to make under TCG)
rm -f "$root"/etc/ssh/ssh_host_*
echo 'HostKey /etc/ssh/ssh_host_ed25519_key' >"$root/etc/ssh/sshd_config.d/labgen-box-host-key.conf"
cat >"$root/etc/systemd/system/labgen-box-host-keys.service" <<'UNIT'
[Unit]
Description=SSH host key of this VM (labgen test box)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key

[Install]
WantedBy=multi-user.target
UNIT
inside systemctl enable labgen-box-host-keys.service

echo '/dev/vda / ext4 defaults 0 1' >"$root/etc/fstab"
echo labgen-box >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tlabgen-box\n' >"$root/etc/hosts"
cat >"$root/etc/network/interfaces" <<'IFACES'
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

# the management network (Vagrant's first adapter)
auto eth0
iface eth0 inet dhcp
IFACES
# every VM gets its own machine id on first boot
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

inside apt-get clean
