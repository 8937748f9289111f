/**
 * Booting Raspberry Pi OS-like images for real, under QEMU: the x86 guest is a stand-in for the
 * Pi's arm board (tests using this say so in their names). For tests of what `labgen image`
 * makes: a card's first boot into its lab identity.
 *
 *   const net = await startPiNet();                 // netns + bridge with the gateway's address
 *   const image = await baseImage('bookworm');      // a copy of the cached Pi OS-like image
 *   await writeBootFile(image, 'ssh', '');          // change it as labgen image would
 *   const pi = await bootPi(net, image);            // boots like the firmware, again on reboot
 *   await pi.waitForSsh('10.42.0.11');
 *   await net.run('node', ['dist/bin/labgen.js', 'status']);   // inside the netns
 *   await net.stop();                               // stops the Pis too
 *
 * What the base images are like (both releases): hostname raspberrypi; boot partition
 * (FAT, label bootfs) at /boot/firmware with config.txt, cmdline.txt, kernel and initramfs; root
 * (ext4, label rootfs); no user; no SSH host keys and sshd disabled (an `ssh` file on the boot
 * partition turns it on: stand-in for raspberrypi-sys-mods' sshswitch); regenerate_ssh_host_keys
 * on first boot (stand-in); NetworkManager with no connection profile; the packages labgen's
 * setup.sh installs already installed (guests have no network) but not enabled.
 *   bookworm: cmdline.txt starts the firstboot stand-in (init=/usr/lib/raspberrypi-sys-mods/
 *     firstboot): new host keys, its init= removed, a reboot.
 *   trixie: cloud-init (NoCloud, seeded from /boot/firmware, Raspberry Pi OS's
 *     99_raspberry-pi.cfg settings), netplan handing over to NetworkManager; bootfs carries
 *     meta-data, user-data and network-config with nothing to do, as Pi OS's image does.
 */
import type { Needs } from '../prereq.js';

export { baseImage, debianMirror, removeImage, type BaseRelease } from './image.js';
export { bootFiles, partitions, readBootFile, readRootFile, rootFileExists, writeBootFile, writeRootFile, type Partition } from './disk.js';
export { startPiNet, type PiNet } from './net.js';
export { bootPi, firmwareConfig, GUEST_NIC, type BootedPi } from './boot.js';

/** What building and booting the images needs (for describeE2e): root and these programs. */
export function bootNeeds(): Needs {
  return {
    root: true,
    commands: [
      'qemu-system-x86_64', 'mmdebstrap', 'mcopy', 'mtype', 'mdir', 'mkfs.vfat', 'mke2fs', 'debugfs',
      'sfdisk', 'ip', 'setpriv', 'flock', 'tar', 'timeout', 'bash',
    ],
  };
}
