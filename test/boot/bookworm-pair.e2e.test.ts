/**
 * Issue #12, the rest of its acceptance, on booted Pis: two bookworm Pis imaged with `labgen
 * image`, booted side by side, set up with `labgen push`; Slurm across both, then network
 * cut-overs of node02 as they really run on the Pi (systemd's timers, NetworkManager, sshd).
 *
 *   node01  bookworm  compute, Slurm controller  10.42.0.11
 *   node02  bookworm  compute                     10.42.0.12 → 10.42.0.13 → (10.42.0.99, rolled back)
 *
 * Bookworm's slurmd.service starts only where /etc/slurm/slurm.conf exists, which a configless
 * compute Pi never has: setup.sh's drop-in clears that condition and starts it. One release on
 * both Pis: a bookworm and a trixie Pi in one Slurm cluster are refused (acceptance.e2e.test.ts).
 *
 * The cut-overs of node02, in order (pushCommand, what the CLI runs, with other timeouts):
 * 1. a move to 10.42.0.13 whose guard waits 30 minutes past the confirm: confirmed at the new
 *    address; .labgen/known_hosts pins the new address, not the old one; the guard's systemd
 *    timer is still armed, so its properties are read with no race: AccuracyUSec must be
 *    TIMER_ACCURACY (systemd's default, 1min, would fire it up to a minute late);
 * 2. a move to 10.42.0.99, an address this LAN's side cannot reach (a blackhole route in the
 *    test's netns: the Pi gets there, labgen cannot follow), shorter timeouts: the first guard
 *    retired (its timer stopped); not confirmed, the new guard rolls back, the push exits 1
 *    saying so; the Pi is at 10.42.0.13 again, and its /etc/hosts, its NetworkManager profile,
 *    the laptop's pins and .labgen/state.json all say 10.42.0.13.
 *
 * The Pis are QEMU guests (test/support/pi-boot): x86 stand-ins for the Pi's arm board, with
 * stand-ins for Raspberry Pi OS's first-boot pieces; systemd, sshd, NetworkManager, munge and
 * Slurm are the real programs, and so is labgen (tsc's and esbuild's builds), run inside the LAN.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { TIMER_ACCURACY, unitDescription } from '../../drivers/push/cutover.js';
import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { bootNeeds, GUEST_NIC, type BaseRelease } from '../support/pi-boot/index.js';
import { describeE2e } from '../support/prereq.js';
import { run } from '../support/test-hosts.js';
import { bootedLab, bootEvery, LABGEN, labgenIn, labSsh, MINUTE, piLabYaml, pollUntil, pushWithTiming, text } from './support.js';

const needs = bootNeeds();
needs.commands = [...(needs.commands ?? []), 'node', 'ssh', 'ssh-keygen'];

type Node = 'node01' | 'node02';
const RELEASES: Record<Node, BaseRelease> = { node01: 'bookworm', node02: 'bookworm' };
const NODES = Object.keys(RELEASES) as Node[];
const FIRST: Record<Node, string> = { node01: '10.42.0.11', node02: '10.42.0.12' };
/** node02's confirmed move */
const MOVED = '10.42.0.13';
/** node02's move that cannot be confirmed: blackholed in the test's netns */
const UNREACHABLE = '10.42.0.99';
const CUTOVERS = `${PI_STAGE.dir}/cutover`;
/** node02's line in the lab's block of a Pi's /etc/hosts (not the loopback one of its own name), spaces squeezed */
const hostsLine = "awk '$1 !~ /^127\\./ && / node02$/ { $1 = $1; print }' /etc/hosts";

/** lab.yaml: node01 Slurm's controller, both compute; RealMemory below what slurmd -C finds in a 1 GiB guest (not drained), the guests' 2 vCPUs */
function labYaml(o: { node02?: string } = {}) {
  const ip: Record<Node, string> = { ...FIRST, ...(o.node02 ? { node02: o.node02 } : {}) };
  return piLabYaml({
    name: 'pairlab',
    domain: 'pair.lab',
    nodes: NODES.map((name) => ({ name, ip: ip[name], roles: ['compute'], cpus: 2, memory: 512 })),
    slurm: { controller: 'node01', nodes: NODES },
  });
}

describeE2e('Issue #12 on booted bookworm Pis: Slurm across two, cut-overs for real (stand-in: x86 QEMU guests for the Pi board; firstboot stand-in)', needs, () => {
  const lab = bootedLab({ prefix: 'labgen-pair-', lab: labYaml(), releases: RELEASES });
  /** where node02 is now */
  let node02 = FIRST.node02;

  const ssh = (node: Node, command: string) => labSsh(lab.net, lab.labDir, node === 'node02' ? node02 : FIRST[node], command);
  const generate = async (o: Parameters<typeof labYaml>[0]) => {
    await writeFile(lab.labFile, yaml.dump(labYaml(o)));
    const gen = await run('node', [LABGEN, 'generate', '--lab', lab.labFile]);
    expect(gen.code, text(gen)).toBe(0);
  };
  /** What OpenSSH finds for `host` in the lab's known_hosts: the key blobs pinned for it. */
  const pinsFor = async (host: string) => {
    const r = await run('ssh-keygen', ['-F', host, '-f', join(lab.labDir, '.labgen/known_hosts')]);
    return r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/).slice(1, 3).join(' '));
  };

  it('both images made; both Pis boot into their lab identity (firstboot stand-in, firstrun.sh, an ordinary boot)', async () => {
    await bootEvery(lab, FIRST, 20 * MINUTE);
  }, 30 * MINUTE);

  describe('Slurm on bookworm: node01 controller and compute, node02 compute (configless)', () => {
    it("node02: bookworm's own slurmd.service does not start without /etc/slurm/slurm.conf (as when its package's postinst starts it)", async () => {
      const r = await ssh('node02', 'sudo systemctl start slurmd; systemctl show -p ConditionResult --value slurmd; systemctl is-active slurmd');
      expect(r.stdout.split('\n'), text(r)).toEqual(['no', 'inactive', '']);
    }, 5 * MINUTE);

    it('the first push sets both up: exit 0, 2 changed', async () => {
      const r = await labgenIn(lab.net, lab.labFile, 'push');
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toMatch(/^node01: setup\.sh: .*enabled .*slurmctld, slurmd/m);
      expect(r.stdout).toContain('pushed: 2 Pi(s), 2 changed');
    }, 15 * MINUTE);

    it('node01 runs munge, slurmctld and slurmd; node02 munge and slurmd, with no slurm.conf of its own', async () => {
      const one = await ssh('node01', 'systemctl is-active munge slurmctld slurmd');
      expect(one.stdout.split('\n'), text(one)).toEqual(['active', 'active', 'active', '']);
      const two = await ssh('node02', 'systemctl is-active munge slurmd; test -e /etc/slurm/slurm.conf && echo has-slurm.conf || echo configless');
      expect(two.stdout.split('\n'), text(two)).toEqual(['active', 'active', 'configless', '']);
    }, 5 * MINUTE);

    it('both slurmds register (idle) and srun -N2 hostname runs on both', async () => {
      // each slurmd registers with slurmctld in its own time: wait until sinfo shows both idle
      const sinfo = await pollUntil(() => ssh('node01', 'sinfo -h -N -o "%N %t"'), (r) => r.stdout.trim() === 'node01 idle\nnode02 idle', 10 * MINUTE, 5000);
      expect(sinfo.stdout.trim(), text(sinfo)).toBe('node01 idle\nnode02 idle');
      const r = await ssh('node01', 'srun -N2 hostname');
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout.trim().split('\n').sort()).toEqual(NODES);
    }, 15 * MINUTE);
  });

  describe('cut-overs of node02 on the booted Pi', () => {
    /** node02's labgen timers (state, accuracy, description, name) and cut-over folders, as systemd and the Pi say */
    const cutoverState = async () => {
      const script = [
        // the unit names only: a line of the listing may be the rest of a multi-line description
        "for u in $(systemctl list-units --all --plain --no-legend --type=timer 'labgen-*' | awk '$1 ~ /^labgen-.*[.]timer$/ { print $1 }'); do",
        '  echo "timer|$(systemctl show -p ActiveState --value "$u")|$(systemctl show -p AccuracyUSec --value "$u")|$(systemctl show -p Description --value "$u")|$u"',
        'done',
        `sudo ls ${CUTOVERS} 2>/dev/null | sed 's/^/folder|/'`,
        'true',
      ].join('\n');
      const r = await ssh('node02', script);
      expect(r.code, text(r)).toBe(0);
      const lines = r.stdout.split('\n').filter(Boolean);
      return {
        timers: lines.filter((l) => l.startsWith('timer|')).map((l) => l.split('|').slice(1)),
        folders: lines.filter((l) => l.startsWith('folder|')).map((l) => l.slice('folder|'.length)),
        text: r.stdout,
      };
    };
    let movedGuard = '';

    it(`a move to ${MOVED}, its guard left armed: confirmed there; the guard's systemd timer has AccuracyUSec=${TIMER_ACCURACY}; known_hosts pins ${MOVED}, not ${FIRST.node02}`, async () => {
      const key = await pinsFor('node02');
      expect(key).toHaveLength(1);
      expect(await pinsFor(FIRST.node02)).toEqual(key);
      await generate({ node02: MOVED });
      // the guard waits 30 minutes past the confirm window: still armed once confirmed (the next push retires it)
      const r = await pushWithTiming(lab.net, lab.labFile, ['node02'], { guardMarginMs: 30 * MINUTE });
      expect(r.code, text(r)).toBe(0);
      expect(r.stdout).toContain(`node02: network cut-over ${FIRST.node02} → ${MOVED} confirmed`);
      node02 = MOVED;

      // what OpenSSH reads: node02's key at the new address, nothing at the old one
      expect(await pinsFor(MOVED)).toEqual(key);
      expect(await pinsFor(FIRST.node02)).toEqual([]);
      const where = await ssh('node02', `hostname; ${hostsLine}; ip -4 -o addr show dev ${GUEST_NIC} | awk '{print $4}'`);
      expect(where.stdout.split('\n'), text(where)).toEqual(['node02', `${MOVED} node02.pair.lab node02`, `${MOVED}/24`, '']);

      // the guard, armed: its timer as systemd holds it (the apply's ran 300 ms after the upload, and is gone)
      const state = await cutoverState();
      expect(state.folders, state.text).toHaveLength(1);
      movedGuard = `labgen-guard-${state.folders[0]}.timer`;
      expect(state.timers, state.text).toEqual([['active', TIMER_ACCURACY, unitDescription(movedGuard.replace(/\.timer$/, '')), movedGuard]]);
    }, 10 * MINUTE);

    it(`a move to ${UNREACHABLE}, which labgen cannot reach: the guard rolls back, exit 1 says so; the Pi, its /etc/hosts and the pins all at ${MOVED}`, async () => {
      const blackhole = await run('ip', ['-n', lab.net.netns, 'route', 'add', 'blackhole', `${UNREACHABLE}/32`]);
      expect(blackhole.code, text(blackhole)).toBe(0);
      const key = await pinsFor('node02');
      await generate({ node02: UNREACHABLE });
      const r = await pushWithTiming(lab.net, lab.labFile, ['node02'], { confirmTimeoutMs: 15_000, guardMarginMs: 5_000, rollbackWaitMs: 5 * MINUTE });
      expect(r.code, text(r)).toBe(1);
      expect(r.stderr).toContain('labgen: push failed on 1 of 1 Pi(s): node02');
      expect(r.stderr, text(r)).toContain(`network cut-over ${MOVED} → ${UNREACHABLE} not confirmed: ${UNREACHABLE} did not answer within 15s`);
      expect(r.stderr, text(r)).toContain(`rolled back (guard: rolled-back), answers at ${MOVED} again`);

      // the Pi really went there (the apply succeeded) and its guard put it back; the earlier guard was retired
      const state = await cutoverState();
      expect(state.folders, state.text).toHaveLength(1);
      expect(state.timers.map((t) => t[3]), state.text).not.toContain(movedGuard);
      const marks = await ssh('node02', `sudo cat ${CUTOVERS}/${state.folders[0]}/outcome; sudo test -e ${CUTOVERS}/${state.folders[0]}/applied && echo applied`);
      expect(marks.stdout.split('\n'), text(marks)).toEqual(['rolled-back', 'applied', '']);
      // in effect: the old address, the Pi's /etc/hosts, NetworkManager's profile
      const where = await ssh('node02', [
        `ip -4 -o addr show dev ${GUEST_NIC} | awk '{print $4}'`,
        hostsLine,
        `grep -c ${UNREACHABLE.replace(/\./g, '\\.')} /etc/hosts || true`,
        `nmcli -g ipv4.addresses connection show "$(nmcli -g GENERAL.CONNECTION device show ${GUEST_NIC})"`,
      ].join('; '));
      expect(where.stdout.split('\n'), text(where)).toEqual([`${MOVED}/24`, `${MOVED} node02.pair.lab node02`, '0', `${MOVED}/24`, '']);
      // the laptop's side: node02's key still pinned at the old address, none at the new; the
      // next push looks for node02 where it is
      expect(await pinsFor(MOVED)).toEqual(key);
      expect(await pinsFor(UNREACHABLE)).toEqual([]);
      const recorded = JSON.parse(await readFile(join(lab.labDir, '.labgen/state.json'), 'utf8')) as { nodes: Record<string, { address: string }> };
      expect(recorded.nodes.node02).toEqual({ address: MOVED });
    }, 15 * MINUTE);
  });
});
