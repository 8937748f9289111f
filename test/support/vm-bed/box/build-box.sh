#!/usr/bin/env bash
# build-box.sh OUT.box KUBERNETES: the labgen test box, a Debian 12 (bookworm) Vagrant box for
# libvirt, made from Debian's packages with mmdebstrap (from this machine's Debian mirror), as root.
# KUBERNETES is the minor (e.g. 1.35) the stand-ins' packages are versioned as: the one the test labs pin.
#
# What a lab VM needs offline (the test VMs have no network beyond the test machine): systemd,
# openssh-server, sudo, a `vagrant` user with Vagrant's insecure public key (vagrant swaps it for a
# key of its own on the first `vagrant up`), ifupdown + dhclient (what Vagrant's Debian guest
# plugin configures when neither netplan nor networkd is there), the cloud kernel with its
# initramfs, and every package provision/common.sh installs, already installed. containerd is
# Debian sid's (2.x, a .deb that installs on bookworm): Debian 12's own 1.6 fits no Kubernetes that
# labgen pins, and the VMs cannot reach Docker's repository, which labgen-containerd would install
# containerd.io from. Kubernetes' kubeadm, kubelet and kubectl cannot be had here: stand-ins of
# those names (standin/, packaged as kubeadm, kubelet and kubectl at KUBERNETES.0 so dpkg and apt
# see the pinned version installed).
set -euo pipefail
out=$1 kubernetes=$2
here=$(cd "$(dirname "$0")" && pwd)
pubkey=$(dpkg -L vagrant | grep '/keys/vagrant\.pub$' | head -n 1)
[ -r "$pubkey" ] || { echo "build-box.sh: no keys/vagrant.pub in the vagrant package" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/labgen-box-XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work" # apt's _apt user downloads into it

# the stand-ins as packages, at the pinned Kubernetes minor
version=$kubernetes.0-0labgen.standin
for pkg in kubeadm kubelet kubectl; do
  root=$work/deb-$pkg
  install -d "$root/DEBIAN" "$root/usr/bin"
  install -m 0755 "$here/standin/$pkg" "$root/usr/bin/$pkg"
  if [ "$pkg" = kubelet ]; then install -D -m 0644 "$here/standin/kubelet.service" "$root/lib/systemd/system/kubelet.service"; fi
  cat >"$root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: all
Maintainer: labgen tests <labgen@invalid>
Description: labgen test stand-in for $pkg
 Not Kubernetes: records its calls (see /var/log/labgen-standin/).
CONTROL
  dpkg-deb --root-owner-group --build "$root" "$work/$pkg.deb" >/dev/null
done

# containerd 2.x, with the runc of bookworm it depends on
containerd_deb=$("$here/debian-deb.sh" sid containerd "$work")

# Debian's mirror as this machine's apt has it (deb822 .sources or one-line .list entries)
mirrors=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  if grep -qE '^[^#]*(debian\.org|/debian)' "$f" && grep -qE '^[^#]*bookworm' "$f"; then mirrors+=("$f"); fi
done
[ "${#mirrors[@]}" -gt 0 ] || { echo "build-box.sh: no bookworm source in /etc/apt/sources.list*" >&2; exit 1; }

packages=(
  systemd-sysv udev dbus kmod iproute2 ifupdown isc-dhcp-client openssh-server sudo procps
  linux-image-cloud-amd64 initramfs-tools
  # what provision/common.sh installs (containerd: sid's, below)
  runc apt-transport-https ca-certificates curl gpg nfs-common
  # the kubeadm stand-in makes real certificates
  openssl
)
rootfs=$work/rootfs
# no documentation, manual pages or translations: the box is uploaded into libvirt on each run
mmdebstrap --variant=apt --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="copy-in $work/kubeadm.deb $work/kubelet.deb $work/kubectl.deb $containerd_deb /tmp" \
  --customize-hook='chroot "$1" sh -c "dpkg -i /tmp/*.deb && rm /tmp/*.deb"' \
  --customize-hook="$here/customize.sh \"\$1\" '$pubkey'" \
  bookworm "$rootfs" "${mirrors[@]}"

# one ext4 file system is the whole disk (root=/dev/vda): no partition table, no boot loader
mke2fs -q -t ext4 -L root -d "$rootfs" "$work/disk.raw" 8G
box=$work/box
mkdir "$box"
qemu-img convert -c -f raw -O qcow2 "$work/disk.raw" "$box/box.img"
cp "$rootfs"/boot/vmlinuz-* "$box/vmlinuz"
cp "$rootfs"/boot/initrd.img-* "$box/initrd.img"
cp "$here/Vagrantfile" "$box/Vagrantfile"
echo '{"provider":"libvirt","format":"qcow2","virtual_size":8}' >"$box/metadata.json"
tar -C "$box" -cf "$work/out.box" metadata.json Vagrantfile box.img vmlinuz initrd.img
mv "$work/out.box" "$out"
