/**
 * Issue #12's whole small lab, booted from images: a Slurm controller Pi and two compute Pis,
 * each made with `labgen image` and booted side by side, set up by one `labgen push`; then
 * `srun -N2 hostname` across the booted guests. Not in `npm test` (three more TCG guests: about
 * 4 minutes with the base cached, and CI's run is near its time limit; test/boot/bookworm-pair
 * runs Slurm across two booted Pis there): `npm run test:small-lab` runs it.
 *
 *   ctl  bookworm  Slurm controller (slurmctld), no compute   10.42.0.11
 *   c1   bookworm  compute (slurmd, configless)               10.42.0.21
 *   c2   bookworm  compute (slurmd, configless)               10.42.0.22
 *
 * The Pis are QEMU guests (test/support/pi-boot): x86 stand-ins for the Pi's arm board, with a
 * stand-in for Raspberry Pi OS's firstboot; systemd, sshd, NetworkManager, munge and Slurm are
 * the real programs, and so is labgen, run inside the test's LAN (no route out).
 */
import { expect, it } from 'vitest';
import { bootNeeds, type BaseRelease } from '../support/pi-boot/index.js';
import { describeE2e } from '../support/prereq.js';
import { bootedLab, bootEvery, labgenIn, labSsh, MINUTE, piLabYaml, pollUntil, text } from '../boot/support.js';

const needs = bootNeeds();
needs.commands = [...(needs.commands ?? []), 'node', 'ssh', 'ssh-keygen'];

type Node = 'ctl' | 'c1' | 'c2';
const IP: Record<Node, string> = { ctl: '10.42.0.11', c1: '10.42.0.21', c2: '10.42.0.22' };
const NODES = Object.keys(IP) as Node[];
const COMPUTE: Node[] = ['c1', 'c2'];
const RELEASES = Object.fromEntries(NODES.map((n) => [n, 'bookworm'])) as Record<Node, BaseRelease>;

/** the controller has no role (not a Slurm node); the compute Pis' RealMemory below what slurmd -C finds in a 1 GiB guest, their 2 vCPUs */
const LAB = piLabYaml({
  name: 'smalllab',
  domain: 'small.lab',
  nodes: [{ name: 'ctl', ip: IP.ctl, roles: [] }, ...COMPUTE.map((name) => ({ name, ip: IP[name], roles: ['compute'], cpus: 2, memory: 512 }))],
  slurm: { controller: 'ctl', nodes: COMPUTE },
});

describeE2e('Issue #12, a whole small lab booted from images: a controller Pi and two compute Pis, srun -N2 (stand-in: x86 QEMU guests for the Pi board; firstboot stand-in)', needs, () => {
  const lab = bootedLab({ prefix: 'labgen-small-lab-', lab: LAB, releases: RELEASES });
  const ssh = (node: Node, command: string) => labSsh(lab.net, lab.labDir, IP[node], command);

  it('three images made; the three Pis boot into their lab identity', async () => {
    await bootEvery(lab, IP, 30 * MINUTE);
  }, 40 * MINUTE);

  it('one push sets all three up: exit 0, 3 changed', async () => {
    const r = await labgenIn(lab.net, lab.labFile, 'push');
    process.stdout.write(`--- labgen push\n${r.stdout}`);
    expect(r.code, text(r)).toBe(0);
    expect(r.stdout).toContain('pushed: 3 Pi(s), 3 changed');
  }, 20 * MINUTE);

  it('ctl runs munge and slurmctld, no slurmd; c1 and c2 munge and slurmd', async () => {
    const ctl = await ssh('ctl', 'systemctl is-active munge slurmctld; systemctl is-active slurmd || true');
    expect(ctl.stdout.split('\n'), text(ctl)).toEqual(['active', 'active', 'inactive', '']);
    for (const node of COMPUTE) {
      const r = await ssh(node, 'systemctl is-active munge slurmd');
      expect(r.stdout.split('\n'), text(r)).toEqual(['active', 'active', '']);
    }
  }, 5 * MINUTE);

  it('both compute Pis idle in sinfo, and srun -N2 hostname runs on c1 and c2', async () => {
    const sinfo = await pollUntil(() => ssh('ctl', 'sinfo -h -N -o "%N %t"'), (r) => r.stdout.trim() === 'c1 idle\nc2 idle', 15 * MINUTE, 5000);
    expect(sinfo.stdout.trim(), text(sinfo)).toBe('c1 idle\nc2 idle');
    const r = await ssh('ctl', 'srun -N2 hostname');
    process.stdout.write(`--- ctl$ sinfo -N\n${sinfo.stdout}--- ctl$ srun -N2 hostname\n${r.stdout}`);
    expect(r.code, text(r)).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(COMPUTE);
  }, 20 * MINUTE);

  it('a second push changes nothing, and labgen status says in sync', async () => {
    const again = await labgenIn(lab.net, lab.labFile, 'push');
    expect(again.code, text(again)).toBe(0);
    expect(again.stdout).toContain('pushed: 3 Pi(s), 0 changed');
    const status = await labgenIn(lab.net, lab.labFile, 'status');
    process.stdout.write(`--- labgen status\n${status.stdout}`);
    expect(status.code, text(status)).toBe(0);
  }, 20 * MINUTE);
});
