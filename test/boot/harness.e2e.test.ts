/**
 * The Pi boot harness itself (test/support/pi-boot): a bookworm and a trixie Raspberry Pi OS-like
 * image, built from Debian and booted for real under QEMU, side by side on one lab net. The
 * guest is x86, a stand-in for the Pi's arm board, and the Pi OS first-boot pieces in the
 * images are stand-ins too (raspberrypi-sys-mods' firstboot, regenerate_ssh_host_keys,
 * sshswitch); cloud-init, NetworkManager, netplan, sshd and systemd are the real programs.
 *
 * Each image gets, before it boots, what a lab image gives a card: an SSH host key of the lab
 * (the trap: Pi OS's first boot replaces host keys) and a static address; the bookworm one an
 * `ssh` file on the boot partition, the trixie one a cloud-init network-config there.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  baseImage,
  bootNeeds,
  bootPi,
  GUEST_NIC,
  readBootFile,
  readRootFile,
  removeImage,
  startPiNet,
  writeBootFile,
  writeRootFile,
  type BaseRelease,
  type BootedPi,
  type PiNet,
} from '../support/pi-boot/index.js';
import { describeE2e } from '../support/prereq.js';
import { generateKeyPair } from '../support/test-hosts.js';

const MINUTE = 60_000;
const needs = bootNeeds();
needs.commands = [...(needs.commands ?? []), 'ssh-keygen', 'ssh-keyscan'];

/** NetworkManager keyfile: a static address on the guest's NIC, as a lab gives a bookworm Pi. */
function staticKeyfile(ip: string, gateway: string): string {
  return [
    '[connection]', 'id=lab', 'type=ethernet', `interface-name=${GUEST_NIC}`, 'autoconnect=true', '',
    '[ipv4]', 'method=manual', `address1=${ip}/24,${gateway}`, '',
    '[ipv6]', 'method=disabled', '',
  ].join('\n');
}

/** cloud-init network-config (netplan v2): the same static address, the trixie way. */
function networkConfig(ip: string): string {
  return ['network:', '  version: 2', '  ethernets:', `    ${GUEST_NIC}:`, `      addresses: [${ip}/24]`, ''].join('\n');
}

/** `ssh-ed25519 AAAA…` without the comment. */
const keyOnly = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');

describeE2e('Pi boot harness: Raspberry Pi OS-like images under QEMU (stand-in: x86 guest for the Pi board)', needs, () => {
  let net: PiNet | undefined;
  let tmp = '';
  const images: Partial<Record<BaseRelease, string>> = {};
  const pis: Partial<Record<BaseRelease, BootedPi>> = {};
  const planted: Partial<Record<BaseRelease, string>> = {};
  const ips: Record<BaseRelease, string> = { bookworm: '', trixie: '' };
  let cmdlineBefore = '';

  /** A lab host key written into the image, as a lab image would; returns its public half. */
  async function plantHostKey(release: BaseRelease, image: string): Promise<string> {
    const key = await generateKeyPair(join(tmp, release), 'ssh_host_ed25519_key', 'root@lab');
    await writeRootFile(image, '/etc/ssh/ssh_host_ed25519_key', key.privateKey, { mode: 0o600 });
    await writeRootFile(image, '/etc/ssh/ssh_host_ed25519_key.pub', `${key.publicKey}\n`);
    return keyOnly(key.publicKey);
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'labgen-boot-harness-'));
    // built (or taken from the cache) one after the other: two mmdebstraps at once only compete
    images.bookworm = await baseImage('bookworm');
    images.trixie = await baseImage('trixie');
    net = await startPiNet();
    const base = net.gateway.replace(/\.1$/, '.');
    ips.bookworm = `${base}11`;
    ips.trixie = `${base}12`;

    cmdlineBefore = await readBootFile(images.bookworm, 'cmdline.txt');
    planted.bookworm = await plantHostKey('bookworm', images.bookworm);
    await writeRootFile(images.bookworm, '/etc/NetworkManager/system-connections/lab.nmconnection', staticKeyfile(ips.bookworm, net.gateway), {
      mode: 0o600,
    });
    await writeBootFile(images.bookworm, 'ssh', '');

    planted.trixie = await plantHostKey('trixie', images.trixie);
    await writeBootFile(images.trixie, 'network-config', networkConfig(ips.trixie));

    pis.bookworm = await bootPi(net, images.bookworm, { name: 'bookworm' });
    pis.trixie = await bootPi(net, images.trixie, { name: 'trixie' });
  }, 60 * MINUTE);

  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const pi of Object.values(pis)) process.stderr.write(`${pi.tail(80)}\n`);
  });

  afterAll(async () => {
    await net?.stop(); // stops both Pis
    for (const image of Object.values(images)) removeImage(image);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 5 * MINUTE);

  describe('bookworm', () => {
    it('first boot runs the firstboot stand-in once: it takes its init= out of cmdline.txt and reboots', async () => {
      const pi = pis.bookworm!;
      expect(cmdlineBefore).toContain(' init=/usr/lib/raspberrypi-sys-mods/firstboot');
      await pi.waitForBoots(2, 10 * MINUTE);
      // boot 1 ended with QEMU's exit, so the image holds what the guest wrote
      const after = await readBootFile(images.bookworm!, 'cmdline.txt');
      expect(after.trim()).toBe(cmdlineBefore.trim().replace(' init=/usr/lib/raspberrypi-sys-mods/firstboot', ''));
      expect(pi.log().match(/firstboot: generating SSH host keys/g), pi.tail()).toHaveLength(1);
    }, 15 * MINUTE);

    it('second boot reaches multi-user: a login prompt for raspberrypi on the serial console', async () => {
      await pis.bookworm!.waitForLog(/raspberrypi login:/, 15 * MINUTE);
      expect(pis.bookworm!.boots()).toBe(2);
    }, 20 * MINUTE);

    it(`the ssh file on bootfs turns sshd on (sshswitch stand-in), NetworkManager puts the static address on ${GUEST_NIC}`, async () => {
      await pis.bookworm!.waitForSsh(ips.bookworm, 5 * MINUTE);
    }, 10 * MINUTE);

    it('sshd serves a host key made at first boot, not the one written into the image', async () => {
      const scan = await net!.run('ssh-keyscan', ['-T', '30', '-t', 'ed25519', ips.bookworm]);
      const served = keyOnly(scan.stdout.replace(/^\S+\s+/, ''));
      expect(served, scan.stderr).toMatch(/^ssh-ed25519 AAAA/);
      expect(served).not.toBe(planted.bookworm);
    }, 5 * MINUTE);
  });

  describe('trixie', () => {
    it('cloud-init does the first boot, seeded by NoCloud from the boot partition', async () => {
      const pi = pis.trixie!;
      await pi.waitForLog(/Cloud-init v\. \S+ finished at .*Datasource DataSourceNoCloud \[seed=[^\]]*file:\/\/\/boot\/firmware\]/, 20 * MINUTE);
      await pi.waitForLog(/raspberrypi login:/, 5 * MINUTE);
      expect(pi.boots(), 'no reboot: trixie has no firstboot init').toBe(1);
    }, 30 * MINUTE);

    it(`network-config's static address is up on ${GUEST_NIC}, and sshd is off (Pi OS ships it disabled)`, async () => {
      // 'none' until NetworkManager has the address; then the guest answers, with a refusal
      let answer = 'none';
      for (let i = 0; i < 60 && answer === 'none'; i++) {
        answer = await net!.probeTcp(ips.trixie, 22);
        if (answer === 'none') await new Promise((r) => setTimeout(r, 2000));
      }
      expect(answer, pis.trixie!.tail()).toBe('refused');
    }, 10 * MINUTE);

    it('first boot replaced the host key written into the image (regenerate_ssh_host_keys stand-in)', async () => {
      await pis.trixie!.poweroff();
      const pub = await readRootFile(images.trixie!, '/etc/ssh/ssh_host_ed25519_key.pub');
      expect(keyOnly(pub)).toMatch(/^ssh-ed25519 AAAA/);
      expect(keyOnly(pub)).not.toBe(planted.trixie);
    }, 10 * MINUTE);
  });
});
