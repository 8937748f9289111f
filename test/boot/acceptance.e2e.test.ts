/**
 * Issue #12's acceptance, for real: one lab of two Pis, imaged with `labgen image`, booted side by
 * side on one LAN, set up with `labgen push` and checked with `labgen status` and Slurm.
 *
 *   node01  bookworm  no role                                10.42.0.11
 *   node02  trixie    compute, Slurm controller (slurmctld)  10.42.0.12
 *
 * Slurm runs on one Pi only: a Pi runs its release's Slurm (bookworm 22.05, trixie 24.11), and
 * those two cannot talk (either slurmctld rejects the other's slurmd: "Incompatible versions of
 * client and server code", so the node never registers), so labgen refuses a lab that puts both
 * in one Slurm cluster; the first test checks that refusal with the real CLI.
 *
 * The Pis are QEMU guests (test/support/pi-boot): x86 stand-ins for the Pi's arm board, with
 * stand-ins for Raspberry Pi OS's own first-boot pieces (raspberrypi-sys-mods' firstboot,
 * regenerate_ssh_host_keys, sshswitch); systemd, sshd, NetworkManager, cloud-init, munge and
 * Slurm are the real programs, and so is every labgen command (the built CLI, run inside the
 * LAN's network namespace where it talks to the Pis). The guests have no network beyond the LAN:
 * the packages setup.sh installs are in the base images already, not enabled.
 *
 * One scenario, its steps in order (each test builds on the one before): both images made and
 * checked before anything boots; both Pis boot into their lab identity (the pinned host key at
 * the lab address, so push needs no --trust-new); the first push sets them up under real
 * systemd, node02's slurmd already starting without its config (as its package starts it); a
 * second push changes nothing and status says in sync; a network change (the lab's DNS servers)
 * cut over and confirmed on node02; a Slurm job on node02; the cut-over's guard timer runs out
 * cleanly; then, powered off, the images' file systems are clean and bookworm's command line is
 * an ordinary one again.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { bootNeeds, bootPi, GUEST_NIC, partitions, readBootFile, type BaseRelease } from '../support/pi-boot/index.js';
import { describeE2e } from '../support/prereq.js';
import { run, type ExecResult } from '../support/test-hosts.js';
import { bootedLab, GATEWAY, LABGEN, labgenIn, labSsh, MINUTE, piLabYaml, sleep, text } from './support.js';

const needs = bootNeeds();
needs.commands = [...(needs.commands ?? []), 'node', 'ssh', 'sha256sum', 'fsck.vfat', 'e2fsck', 'dd'];

type Node = 'node01' | 'node02';
const PIS: Record<Node, { release: BaseRelease; ip: string }> = {
  node01: { release: 'bookworm', ip: '10.42.0.11' },
  node02: { release: 'trixie', ip: '10.42.0.12' },
};
const NODES = Object.keys(PIS) as Node[];
/** the Pi that runs Slurm: slurmctld and a slurmd (trixie: its slurmd waits for its config, Type=notify) */
const SLURM_PI: Node = 'node02';
/** Slurm RealMemory of the Slurm Pi: below what `slurmd -C` finds in a 1 GiB guest, so it is not drained */
const SLURM_MEMORY = 512;
/** the guests' vCPUs (bootPi: -smp 2) */
const SLURM_CPUS = 2;

function labYaml(dns?: string[]) {
  return piLabYaml({
    name: 'bootlab',
    domain: 'boot.lab',
    dns,
    nodes: NODES.map((name) => ({
      name,
      ip: PIS[name].ip,
      ...(name === SLURM_PI ? { roles: ['compute'], cpus: SLURM_CPUS, memory: SLURM_MEMORY } : { roles: [] }),
      ...(PIS[name].release === 'bookworm' ? {} : { os: PIS[name].release }),
    })),
    slurm: { controller: SLURM_PI, nodes: [SLURM_PI] },
  });
}

describeE2e('Issue #12 acceptance: two Pis imaged, booted, pushed, running Slurm (stand-in: x86 QEMU guests for the Pi board; firstboot stand-in)', needs, () => {
  const baseSums: Partial<Record<BaseRelease, string>> = {};
  const sha256 = async (file: string) => (await run('sha256sum', [file])).stdout.split(' ')[0]!;
  const lab = bootedLab({
    prefix: 'labgen-accept-',
    lab: labYaml(),
    releases: Object.fromEntries(NODES.map((n) => [n, PIS[n].release])) as Record<Node, BaseRelease>,
    onBases: async (bases) => {
      for (const release of ['bookworm', 'trixie'] as const) baseSums[release] = await sha256(bases[release]!);
    },
  });

  /** The built CLI, inside the LAN (it reaches the Pis there), from the lab folder. */
  const labgen = (...args: string[]) => labgenIn(lab.net, lab.labFile, ...args);

  /** A command on a Pi as the lab user, over an ssh that accepts only the host key labgen pinned. */
  const ssh = (node: Node, command: string) => labSsh(lab.net, lab.labDir, PIS[node].ip, command);

  /** `sudo journalctl` of this boot on a Pi, message text only. */
  const journal = async (node: Node, args = '') => {
    const r = await ssh(node, `sudo journalctl -b --no-pager -o cat ${args}`);
    expect(r.code, text(r)).toBe(0);
    return r.stdout;
  };

  /** fsck.vfat -n on p1 (copied out: it takes no offset), e2fsck -fn on p2 (at its offset). */
  async function expectCleanFileSystems(image: string): Promise<void> {
    const { boot, root } = await partitions(image);
    const p1 = join(lab.tmp, 'p1.img');
    const copy = await run('dd', [`if=${image}`, `of=${p1}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${boot.offset}`, `count=${boot.size}`, 'conv=sparse', 'status=none']);
    expect(copy.code, text(copy)).toBe(0);
    const fat = await run('fsck.vfat', ['-n', p1]);
    await rm(p1, { force: true });
    expect(fat.code, text(fat)).toBe(0);
    const ext = await run('e2fsck', ['-fn', `${image}?offset=${root.offset}`]);
    expect(ext.code, text(ext)).toBe(0);
  }

  it('a lab with a bookworm and a trixie Pi in one Slurm cluster is refused (exit 2), nothing written', async () => {
    const dir = join(lab.tmp, 'mixed');
    await mkdir(dir);
    const ours = labYaml();
    const mixed = { ...ours, pis: { ...ours.pis, nodes: ours.pis.nodes.map((n) => ({ ...n, roles: ['compute'] })) }, slurm: { controller: 'node01', nodes: NODES } };
    await writeFile(join(dir, 'lab.yaml'), yaml.dump(mixed));
    const r = await run('node', [LABGEN, 'generate', '--lab', join(dir, 'lab.yaml')]);
    expect(r.code, text(r)).toBe(2);
    expect(r.stderr).toContain('slurm.nodes[1]: "node02" runs trixie, Slurm 24.11, newer than slurmctld on node01 (bookworm), Slurm 22.05');
    expect(await readdir(dir)).toEqual(['lab.yaml']);
  });

  describe('labgen image: one image per Pi, from the base of its release', () => {
    for (const node of NODES) {
      it(`${node} (${PIS[node].release}): made, its file systems clean, the base unchanged`, async () => {
        const r = lab.imageRuns[node]!;
        expect(r.code, text(r)).toBe(0);
        expect(r.stdout).toContain(`${node}: ${lab.images[node]} (${PIS[node].release},`);
        expect(await sha256(lab.bases[PIS[node].release]!)).toBe(baseSums[PIS[node].release]);
        await expectCleanFileSystems(lab.images[node]!);
      }, 10 * MINUTE);

      it(`${node}: cmdline.txt is one line, with cgroup_enable=memory once`, async () => {
        const cmdline = await readBootFile(lab.images[node]!, 'cmdline.txt');
        expect(cmdline.replace(/\r?\n$/, '')).not.toMatch(/\n/);
        expect(cmdline.split(/\s+/).filter((w) => w === 'cgroup_enable=memory')).toHaveLength(1);
        if (PIS[node].release === 'bookworm') {
          // Pi OS's own first boot first, then labgen's firstrun.sh
          expect(cmdline).toContain(' init=/usr/lib/raspberrypi-sys-mods/firstboot');
          expect(cmdline).toContain(' systemd.run=/boot/firmware/firstrun.sh');
        } else {
          expect(cmdline).not.toContain('systemd.run=');
        }
      });
    }
  });

  describe('first boot: each Pi comes up as itself', () => {
    beforeAll(async () => {
      for (const node of NODES) lab.pis[node] = await bootPi(lab.net, lab.images[node]!, { name: node });
    });

    it('node01 (bookworm): the firstboot stand-in, then firstrun.sh, then an ordinary boot (3 boots)', async () => {
      const pi = lab.pis.node01!;
      await pi.waitForBoots(3, 20 * MINUTE);
      await pi.waitForSsh(PIS.node01.ip, 10 * MINUTE);
      const log = pi.log();
      expect(log.match(/firstboot: generating SSH host keys/g), pi.tail()).toHaveLength(1);
      expect(log, pi.tail()).toContain('labgen first boot (node01): done');
      // the kernel's command line of the third boot: neither first-boot step is on it any more
      const boot3 = log.slice(log.indexOf('=== boot 3 ==='));
      const cmdline = /Command line: (.*)/.exec(boot3)?.[1] ?? '';
      expect(cmdline, pi.tail()).toContain('cgroup_enable=memory');
      expect(cmdline).not.toMatch(/systemd\.run|init=\/usr\/lib\/raspberrypi-sys-mods\/firstboot/);
    }, 30 * MINUTE);

    it('node02 (trixie): cloud-init runs firstrun.sh in the one boot', async () => {
      const pi = lab.pis.node02!;
      await pi.waitForSsh(PIS.node02.ip, 20 * MINUTE);
      expect(pi.log(), pi.tail()).toContain('labgen first boot (node02): done');
      expect(pi.boots()).toBe(1);
    }, 30 * MINUTE);

    for (const node of NODES) {
      it(`${node} answers at its lab address with the host key pinned in .labgen/known_hosts, as the lab user`, async () => {
        const r = await ssh(node, 'hostname; sudo -n true && echo sudo-ok');
        expect(r.code, text(r)).toBe(0);
        expect(r.stdout.split('\n')).toEqual([node, 'sudo-ok', '']);
      }, 5 * MINUTE);
    }
  });

  describe('labgen push, then status', () => {
    let first: ExecResult;

    it(`${SLURM_PI}: munge and slurmd started before labgen's config is there (stand-in: as their packages' postinst starts them on a Pi that installs them)`, async () => {
      // trixie's slurmd.service has no ConditionPathExists: without --conf-server it waits for a config, activating
      const r = await ssh(SLURM_PI, 'sudo systemctl start --no-block munge slurmd');
      expect(r.code, text(r)).toBe(0);
      // its start job waits for munge's (After=munge.service): until it runs, slurmd is still inactive
      let state: ExecResult | undefined;
      for (const end = Date.now() + 3 * MINUTE; Date.now() < end; await sleep(1000)) {
        state = await ssh(SLURM_PI, 'systemctl is-active slurmd');
        if (state.stdout.trim() !== 'inactive') break;
      }
      expect(state?.stdout.trim(), state && text(state)).toBe('activating');
    }, 5 * MINUTE);

    it('the first push, without --trust-new, sets both Pis up (setup.sh under real systemd)', async () => {
      first = await labgen('push');
      expect(first.code, text(first)).toBe(0);
      expect(first.stdout).not.toContain('new host key');
      expect(first.stdout, text(first)).toMatch(/^node01: setup\.sh: .*enabled prometheus-node-exporter/m);
      expect(first.stdout, text(first)).toMatch(new RegExp(`^${SLURM_PI}: setup\\.sh: placed .*enabled .*slurmctld, slurmd`, 'm'));
      expect(first.stdout).toContain('pushed: 2 Pi(s), 2 changed');
    }, 15 * MINUTE);

    it(`${SLURM_PI}: munge, slurmctld and slurmd run; slurmd started once, nothing left over from an earlier start`, async () => {
      const r = await ssh(SLURM_PI, 'systemctl is-active munge slurmctld slurmd');
      expect(r.stdout.split('\n'), text(r)).toEqual(['active', 'active', 'active', '']);
      const slurmd = await journal(SLURM_PI, '-u slurmd');
      expect(slurmd.match(/^Started slurmd\.service/gm), slurmd).toHaveLength(1);
      expect(await journal(SLURM_PI)).not.toContain('Found left-over process');
    }, 5 * MINUTE);

    it('node01 (no role): prometheus-node-exporter runs, no Slurm', async () => {
      const r = await ssh('node01', 'systemctl is-active prometheus-node-exporter; systemctl is-enabled slurmd');
      expect(r.stdout.split('\n'), text(r)).toEqual(['active', 'disabled', '']);
    }, 5 * MINUTE);

    it('a second push changes nothing', async () => {
      const again = await labgen('push');
      expect(again.code, text(again)).toBe(0);
      expect(again.stdout).toContain('pushed: 2 Pi(s), 0 changed');
      for (const node of NODES) expect(again.stdout, text(again)).toMatch(new RegExp(`^${node}\\s.*\\s0\\s+0\\s.*\\bok\\b`, 'm'));
    }, 10 * MINUTE);

    it('labgen status: both in sync (exit 0)', async () => {
      const r = await labgen('status');
      expect(r.code, text(r)).toBe(0);
    }, 10 * MINUTE);
  });

  describe('a network change: the cut-over, confirmed', () => {
    const dns = [GATEWAY, '10.42.0.2'];
    let pushed: ExecResult;

    it('new DNS servers in lab.yaml: generate, push node02: applied and confirmed', async () => {
      await writeFile(lab.labFile, yaml.dump(labYaml(dns)));
      const gen = await run('node', [LABGEN, 'generate', '--lab', lab.labFile]);
      expect(gen.code, text(gen)).toBe(0);
      pushed = await labgen('push', 'node02');
      expect(pushed.code, text(pushed)).toBe(0);
      expect(pushed.stdout).toContain(`node02: network config applied at ${PIS.node02.ip}, confirmed (same session)`);
      const r = await ssh('node02', `nmcli -g IP4.DNS device show ${GUEST_NIC}`);
      expect(r.stdout.trim().split(/\s*\|\s*|\n/), text(r)).toEqual(dns);
    }, 10 * MINUTE);
  });

  describe(`Slurm on the booted ${SLURM_PI}`, () => {
    it(`slurmd -C finds the CPUs and at least the memory lab.yaml gives it`, async () => {
      const r = await ssh(SLURM_PI, '/usr/sbin/slurmd -C');
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`\\bCPUs=${SLURM_CPUS}\\b`));
      expect(Number(/RealMemory=(\d+)/.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(SLURM_MEMORY);
    }, 5 * MINUTE);

    it('the configless slurmd registered (idle, not drained) and srun runs a job on it', async () => {
      // slurmd registers with slurmctld on its own time: wait until sinfo shows it idle
      let sinfo: ExecResult | undefined;
      for (const end = Date.now() + 10 * MINUTE; Date.now() < end; await sleep(5000)) {
        sinfo = await ssh(SLURM_PI, 'sinfo -h -N -o "%N %t"');
        if (sinfo.stdout.trim() === `${SLURM_PI} idle`) break;
      }
      expect(sinfo?.stdout.trim(), sinfo && text(sinfo)).toBe(`${SLURM_PI} idle`);
      const r = await ssh(SLURM_PI, 'srun -N1 hostname');
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout.trim()).toBe(SLURM_PI);
    }, 15 * MINUTE);
  });

  describe("after the cut-over: the guard's timer ran out", () => {
    it('node02: no guard timer left, and the guard found its script when it fired', async () => {
      let timers: ExecResult | undefined;
      for (const end = Date.now() + 5 * MINUTE; Date.now() < end; await sleep(5000)) {
        timers = await ssh('node02', "systemctl list-timers --all --no-legend 'labgen-guard-*'");
        if (timers.code === 0 && timers.stdout.trim() === '') break;
      }
      expect(timers?.stdout.trim(), timers && text(timers)).toBe('');
      const log = await journal('node02');
      expect(log).toMatch(/labgen-guard-\S+\.service/);
      expect(log).not.toMatch(/guard\.sh.*(No such file|can't open|cannot open)/);
    }, 10 * MINUTE);
  });

  describe('powered off: what the Pis left on their cards', () => {
    beforeAll(async () => {
      await Promise.all(NODES.map((node) => lab.pis[node]!.poweroff(5 * MINUTE)));
    }, 10 * MINUTE);

    it("node01 (bookworm): cmdline.txt is the base's with cgroup_enable=memory, no first-boot word left", async () => {
      const base = (await readBootFile(lab.bases.bookworm!, 'cmdline.txt')).trim();
      const now = await readBootFile(lab.images.node01, 'cmdline.txt');
      expect(now.trim()).toBe(`${base.replace(' init=/usr/lib/raspberrypi-sys-mods/firstboot', '')} cgroup_enable=memory`);
    });

    for (const node of NODES) {
      it(`${node}: both file systems clean after the boots`, async () => {
        await expectCleanFileSystems(lab.images[node]!);
      }, 10 * MINUTE);
    }
  });
});
