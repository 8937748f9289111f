/**
 * Slurm + munge (issue #3): the lab's slurm.conf / cgroup.conf and the Slurm Pis' part.
 *
 * - unit: NodeName lines (CPUs by model, RealMemory only when given), SlurmctldHost for a k8s or a Pi
 *   controller, which Pis get munge/slurmd/slurmctld, configless /etc/default/slurmd, and the
 *   munge key never in a planned file (it travels as a secret);
 * - shellcheck on the setup.sh of Slurm Pis;
 * - for real: munged with the lab's key, slurmctld on its own address and hostname, slurmd for
 *   pi1 and pi2 in test hosts' network namespaces (pi2 configless, fetching slurm.conf from
 *   slurmctld): `sinfo` shows both idle and `srun -N2 hostname` prints both names. Once with
 *   slurmctld as the k8s controller (slurm.ip), once with a controller Pi (its /etc/slurm/).
 *
 * The generated slurm.conf is used unchanged except the lines `redirect` names (TEST_ONLY):
 * state/spool/pid/log paths into a temp dir, and munge's socket (our own munged, not the
 * machine's). Every other line is checked to be the generated one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../generator/model/defaults.js';
import { validateLab } from '../../generator/model/load.js';
import { type FileSpec, plan } from '../../generator/plan/index.js';
import { piContexts } from '../../generator/plan/pi/part.js';
import { confServer, slurmPi } from '../../generator/plan/pi/slurm.js';
import { cgroupConf } from '../../generator/plan/slurm/cgroup-conf.js';
import { planSlurm } from '../../generator/plan/slurm/index.js';
import { SLURM_NODE_CPUS, SLURMCTLD_K8S_HOSTNAME, slurmConf } from '../../generator/plan/slurm/slurm-conf.js';
import { isSecretPath, SECRET } from '../../generator/secrets/paths.js';
import { loadSecrets, type Secrets } from '../../generator/secrets/store.js';
import { FIXED_SECRETS, loadLabWith, writeFiles } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { run, startHosts, type TestHostGroup } from '../support/test-hosts.js';
import { SECRETS_DIR } from '../../generator/common/layout.js';

const SEED = 'labs/rpi-slurm/lab.yaml';
const MINIMAL = 'labs/minimal/lab.yaml';

const fileAt = (files: FileSpec[], path: string) => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`the plan has no ${path}`);
  return f;
};
const nodeLines = (conf: string) => conf.split('\n').filter((l) => l.startsWith('NodeName='));
const confValue = (conf: string, key: string) => conf.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
const partOf = (lab: Lab, name: string) => slurmPi(piContexts(lab).find((c) => c.node.name === name)!);

// ---------------------------------------------------------------------------------------------
// unit
// ---------------------------------------------------------------------------------------------

describe('slurm.conf and cgroup.conf (planSlurm, slurmConf)', () => {
  it('writes slurm/slurm.conf and slurm/cgroup.conf, kind slurm, only when lab.slurm is set', () => {
    const lab = loadLabWith(SEED);
    const files = planSlurm(lab);
    expect(files.map((f) => [f.path, f.kind, f.mode.toString(8)])).toEqual([
      ['slurm/cgroup.conf', 'slurm', '644'],
      ['slurm/slurm.conf', 'slurm', '644'],
    ]);
    expect(fileAt(files, 'slurm/slurm.conf').contents).toBe(slurmConf(lab));
    expect(fileAt(files, 'slurm/cgroup.conf').contents).toBe(cgroupConf(lab));
    const { slurm: _, ...noSlurm } = lab;
    expect(planSlurm(noSlurm as Lab)).toEqual([]);
  });

  it('has one NodeName line per Slurm node: CPUs from the model unless set, RealMemory only where pis.nodes[].memory gives it', () => {
    const lab = loadLabWith(SEED, {
      pis: {
        model: 'pi4',
        nodes: [
          { name: 'node01', ip: '10.0.0.2', roles: ['storage', 'aptcache'] },
          { name: 'node02', ip: '10.0.0.3', model: 'pi3' },
          { name: 'node03', ip: '10.0.0.4' },
          { name: 'node04', ip: '10.0.0.5', model: 'pi5', memory: 1800 },
          { name: 'node05', ip: '10.0.0.6', model: 'pi5', cpus: 2, memory: 15000 },
        ],
      },
    });
    // no memory given, no RealMemory: a model's biggest board promised for every board of the
    // model drains each smaller one (a 1 GB Pi 4 reports ~950 MiB; pi4 used to promise 3600)
    expect(nodeLines(slurmConf(lab))).toEqual([
      'NodeName=node02 NodeAddr=10.0.0.3 CPUs=4 State=UNKNOWN',
      'NodeName=node03 NodeAddr=10.0.0.4 CPUs=4 State=UNKNOWN',
      'NodeName=node04 NodeAddr=10.0.0.5 CPUs=4 RealMemory=1800 State=UNKNOWN',
      'NodeName=node05 NodeAddr=10.0.0.6 CPUs=2 RealMemory=15000 State=UNKNOWN',
    ]);
    // realistic: 4 cores on every model
    expect(SLURM_NODE_CPUS).toEqual({ pi3: 4, pi4: 4, pi5: 4 });
  });

  it('SlurmctldHost: slurmctld(<slurm.ip>) for k8s, <pi>(<pi ip>) for a controller Pi; configless, munge, the partition', () => {
    const k8s = slurmConf(loadLabWith(SEED));
    expect(confValue(k8s, 'SlurmctldHost')).toBe(`${SLURMCTLD_K8S_HOSTNAME}(10.0.0.28)`);
    expect(confValue(k8s, 'ClusterName')).toBe('homelab');
    const pi = slurmConf(loadLabWith(MINIMAL));
    expect(confValue(pi, 'SlurmctldHost')).toBe('pi-a(192.168.50.21)');
    expect(confValue(pi, 'ClusterName')).toBe('minilab');
    for (const conf of [k8s, pi]) {
      expect(confValue(conf, 'SlurmctldParameters')).toBe('enable_configless');
      expect(confValue(conf, 'AuthType')).toBe('auth/munge');
      expect(conf).toContain('\nPartitionName=allnodes Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n');
      expect(conf.startsWith('# Generated by labgen from lab.yaml')).toBe(true);
      expect(conf.split('\n').filter((l) => /^SlurmctldHost=/.test(l))).toHaveLength(1);
    }
    const other = slurmConf(loadLabWith(SEED, { slurm: { partition: 'pis' } }));
    expect(other).toContain('\nPartitionName=pis Nodes=ALL ');
  });

  it('tracks processes with cgroups (cgroup v2) unless a Slurm node runs bullseye (Slurm 20.11)', () => {
    const bookworm = slurmConf(loadLabWith(SEED));
    expect([confValue(bookworm, 'ProctrackType'), confValue(bookworm, 'TaskPlugin')]).toEqual(['proctrack/cgroup', 'task/cgroup,task/affinity']);
    const bullseye = slurmConf(loadLabWith(MINIMAL));
    expect([confValue(bullseye, 'ProctrackType'), confValue(bullseye, 'TaskPlugin')]).toEqual(['proctrack/linuxproc', 'task/affinity']);
    const cg = cgroupConf(loadLabWith(SEED));
    expect(cg).toContain('\nConstrainCores=yes\n');
    expect(cg).toContain('\nConstrainRAMSpace=no\n');
    expect(cg).not.toMatch(/^CgroupPlugin=/m);
  });

  it('keeps state, spool and logs in Debian\'s locations', () => {
    const conf = slurmConf(loadLabWith(SEED));
    expect(confValue(conf, 'StateSaveLocation')).toBe('/var/lib/slurm/slurmctld');
    expect(confValue(conf, 'SlurmdSpoolDir')).toBe('/var/lib/slurm/slurmd');
    expect(confValue(conf, 'SlurmctldLogFile')).toBe('/var/log/slurm/slurmctld.log');
    expect(confValue(conf, 'SlurmdLogFile')).toBe('/var/log/slurm/slurmd.log');
  });
});

describe('slurmPi: the Slurm part of a Pi', () => {
  it('gives only Slurm Pis munge + slurmd, and the controller Pi slurmctld with /etc/slurm/', () => {
    const seed = loadLabWith(SEED);
    expect(partOf(seed, 'node01')).toEqual({}); // storage Pi, not in slurm.nodes
    const setups = plan(seed, FIXED_SECRETS).filter((f) => f.path.endsWith('/setup.sh'));
    for (const s of setups) expect(/munge/.test(s.contents), s.path).toBe(s.host !== 'node01');
    const node02 = partOf(seed, 'node02');
    expect(node02.packages).toEqual(['munge', 'slurm-client', 'slurmd']);
    expect(node02.services).toEqual(['munge', 'slurmd']);
    expect(node02.files!.map((f) => f.path).sort()).toEqual([
      '/etc/default/slurmd',
      '/etc/systemd/system/slurmd.service.d/labgen-configless.conf',
    ]);

    const minimal = loadLabWith(MINIMAL);
    const piA = partOf(minimal, 'pi-a'); // controller and compute node
    expect(piA.packages).toEqual(['munge', 'slurm-client', 'slurmd', 'slurmctld']);
    expect(piA.services).toEqual(['munge', 'slurmd', 'slurmctld']);
    const conf = piA.files!.find((f) => f.path === '/etc/slurm/slurm.conf')!;
    expect(conf.contents).toBe(slurmConf(minimal));
    expect(conf.restart).toEqual(['slurmctld']);
    expect(piA.files!.find((f) => f.path === '/etc/slurm/cgroup.conf')!.contents).toBe(cgroupConf(minimal));
    expect(partOf(minimal, 'pi-b').files!.map((f) => f.path)).not.toContain('/etc/slurm/slurm.conf');

    // a controller Pi that runs no jobs: slurmctld and munge, no slurmd
    const ctlOnly = loadLabWith(MINIMAL, { slurm: { controller: 'pi-a', nodes: ['pi-b'] } });
    expect(partOf(ctlOnly, 'pi-a').services).toEqual(['munge', 'slurmctld']);
    const { slurm: _, ...noSlurm } = minimal;
    expect(partOf(noSlurm as Lab, 'pi-a')).toEqual({});
  });

  it('places the munge key as a secret: munge.key → /etc/munge/munge.key 0400 munge:munge, restarting munge', () => {
    for (const part of [partOf(loadLabWith(SEED), 'node03'), partOf(loadLabWith(MINIMAL), 'pi-a')]) {
      expect(part.secrets).toEqual([{ secret: SECRET.mungeKey, path: '/etc/munge/munge.key', mode: 0o400, owner: 'munge:munge', restart: ['munge'] }]);
    }
    expect(SECRET.mungeKey).toBe('munge.key');
  });

  it('runs slurmd configless: /etc/default/slurmd has --conf-server <controller>, restarting slurmd', () => {
    const seed = loadLabWith(SEED);
    const defaults = partOf(seed, 'node02').files!.find((f) => f.path === '/etc/default/slurmd')!;
    expect(defaults.contents).toMatch(/^SLURMD_OPTIONS="--conf-server 10\.0\.0\.28:6817"$/m);
    expect(defaults.restart).toEqual(['slurmd']);
    expect(confServer(seed)).toBe('10.0.0.28:6817');
    const minimal = partOf(loadLabWith(MINIMAL), 'pi-b').files!.find((f) => f.path === '/etc/default/slurmd')!;
    expect(minimal.contents).toMatch(/^SLURMD_OPTIONS="--conf-server 192\.168\.50\.21:6817"$/m);
    // Debian's slurmd.service waits for /etc/slurm/slurm.conf, which a configless Pi never has
    const dropIn = partOf(seed, 'node02').files!.find((f) => f.path.startsWith('/etc/systemd/system/slurmd.service.d/'))!;
    expect(dropIn.contents).toMatch(/^\[Unit\]\nConditionPathExists=$/m);
  });

  it('never puts the munge key in a planned file but the cluster\'s 0600 secret copy (setup.sh names secrets/munge.key)', () => {
    const raw = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 37 + 11) % 256));
    const secrets: Secrets = { ...FIXED_SECRETS, mungeKey: raw.toString('base64') };
    for (const file of [SEED, MINIMAL]) {
      const files = plan(loadLabWith(file), secrets);
      // k8s/<svc>/secrets/ holds the copies kustomize builds Secrets from (0600, git-ignored, never exported)
      const copies = files.filter((f) => isSecretPath(f.path));
      for (const f of copies) expect(f.mode, f.path).toBe(0o600);
      if (file === SEED) expect(copies.find((f) => f.path === 'k8s/slurm/secrets/munge-key.yaml')?.contents).toContain(secrets.mungeKey);
      for (const f of files.filter((x) => !isSecretPath(x.path))) {
        expect(f.contents, f.path).not.toContain(secrets.mungeKey.slice(0, 24));
        expect(f.contents, f.path).not.toContain(raw.subarray(0, 16).toString('latin1'));
        expect(f.contents, f.path).not.toContain(raw.subarray(0, 16).toString('hex'));
      }
      const setups = files.filter((f) => f.path.endsWith('/setup.sh') && /slurmd/.test(f.contents));
      expect(setups.length).toBeGreaterThan(0);
      for (const s of setups) expect(s.contents).toContain('install_file "$secrets"/munge.key /etc/munge/munge.key 0400 munge:munge');
    }
  });
});

describeE2e('setup.sh of Slurm Pis passes shellcheck', { commands: ['shellcheck'] }, () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['rpi-slurm node02 (compute, k8s controller)', SEED, 'node02'],
    ['minimal pi-a (controller Pi + compute, bullseye)', MINIMAL, 'pi-a'],
  ])('%s', async (_name, file, node) => {
    dir ||= await mkdtemp(join(tmpdir(), 'labgen-slurm-sc-'));
    const files = plan(loadLabWith(file), FIXED_SECRETS);
    const setup = fileAt(files, `pis/${node}/setup.sh`);
    expect(setup.contents).toMatch(/^restart_if_changed slurmd /m);
    const out = join(dir, node);
    await writeFiles(out, [setup]);
    const r = await run('shellcheck', ['-S', 'warning', '-f', 'gcc', join(out, setup.path)]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describeE2e('the slurmd drop-in, read by systemd-analyze verify with Debian\'s slurmd.service', { commands: ['systemd-analyze', 'slurmd'] }, () => {
  const unit = '/lib/systemd/system/slurmd.service';
  it.runIf(existsSync(unit))('loads without warnings (a misspelt key would be reported)', async () => {
    const dropIn = partOf(loadLabWith(SEED), 'node02').files!.find((f) => f.path.startsWith('/etc/systemd/system/slurmd.service.d/'))!;
    const dir = await mkdtemp(join(tmpdir(), 'labgen-slurm-unit-'));
    try {
      await mkdir(join(dir, 'slurmd.service.d'));
      await writeFile(join(dir, 'slurmd.service'), readFileSync(unit));
      await writeFile(join(dir, 'slurmd.service.d', dropIn.path.split('/').pop()!), dropIn.contents);
      const env = { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` };
      const r = await run('systemd-analyze', ['verify', join(dir, 'slurmd.service')], { env });
      expect(r.stderr + r.stdout).toBe('');
      expect(r.code).toBe(0);
      // the same check does see a drop-in (a misspelt key is reported), so the clean run means something
      await writeFile(join(dir, 'slurmd.service.d', 'zz-typo.conf'), '[Unit]\nConditionPathExist=\n');
      const typo = await run('systemd-analyze', ['verify', join(dir, 'slurmd.service')], { env });
      expect(typo.stderr).toContain("Unknown key 'ConditionPathExist'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// for real: munged, slurmctld, slurmd × 2 (one configless)
// ---------------------------------------------------------------------------------------------

/**
 * The only lines of the generated slurm.conf the real-Slurm test changes. Paths: the daemons
 * must not write into this machine's /var/lib/slurm, /var/log/slurm or /run, and two slurmds on
 * one machine need their own spool and pid files (%n: the node name). AuthInfo: munge's socket
 * is our own munged's, not the machine's /run/munge (absent in the generated file: Debian's
 * default is what a Pi uses).
 */
const TEST_ONLY = ['StateSaveLocation', 'SlurmdSpoolDir', 'SlurmctldPidFile', 'SlurmdPidFile', 'SlurmctldLogFile', 'SlurmdLogFile', 'AuthInfo'] as const;
type TestOnly = (typeof TEST_ONLY)[number];

/** `conf` with each TEST_ONLY key's line replaced (or appended when the file has none). */
function redirect(conf: string, values: Record<TestOnly, string>): string {
  const lines = conf.trimEnd().split('\n');
  const appended: string[] = [];
  for (const key of TEST_ONLY) {
    const at = lines.flatMap((l, i) => (l.startsWith(`${key}=`) ? [i] : []));
    if (at.length > 1) throw new Error(`slurm.conf sets ${key} ${at.length} times`);
    if (at.length === 1) lines[at[0]!] = `${key}=${values[key]}`;
    else appended.push(`${key}=${values[key]}`);
  }
  return `${[...lines, '', '# test/pi/slurm.test.ts: only for this test (see TEST_ONLY)', ...appended].join('\n')}\n`;
}

/** The lines of `b` that differ from `a`, by key: what redirect changed. */
function changedKeys(a: string, b: string): string[] {
  const left = new Set(a.split('\n'));
  return b
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !left.has(l))
    .map((l) => l.split('=')[0]!);
}

interface Daemon {
  name: string;
  proc: ChildProcess;
  output(): string;
  running(): boolean;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A daemon in the foreground, killed with this test process (pdeathsig) or by stop() (its PID). */
function startDaemon(name: string, args: string[], env: NodeJS.ProcessEnv, setprivArgs: string[] = []): Daemon {
  const proc = spawn('setpriv', ['--pdeathsig', 'KILL', ...setprivArgs, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-32768));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  proc.on('error', (e) => keep(Buffer.from(`spawn failed: ${e}\n`)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  return {
    name,
    proc,
    output: () => out,
    running,
    async stop() {
      if (!running()) return;
      proc.kill('SIGTERM');
      if (await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Poll `check` every 100 ms until it returns true; throws `what` (with details) after `ms`. */
async function waitFor(what: string, ms: number, check: () => Promise<boolean>, details: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what}: not within ${ms / 1000} s\n${details()}`);
}

const SLURM_NEEDS = {
  root: true,
  commands: ['ip', 'unshare', 'nsenter', 'setpriv', 'mount', 'sshd', 'ssh-keygen', 'timeout', 'munged', 'munge', 'unmunge', 'slurmctld', 'slurmd', 'sinfo', 'srun', 'scontrol'],
};

describeE2e('Slurm for real on test hosts: munged, slurmctld, slurmd pi1 + configless pi2', SLURM_NEEDS, () => {
  let group: TestHostGroup | undefined;
  let tmp = '';
  let secrets: Secrets;
  let munged: Daemon | undefined;
  let socket = '';

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'labgen-slurm-'));
    await chmod(tmp, 0o755); // slurm and munge traverse it
    // pi1, pi2: Slurm nodes; ctl: slurmctld's own address (the k8s LoadBalancer IP, or a controller Pi)
    group = await startHosts(3, { names: ['pi1', 'pi2', 'ctl'] });

    // the lab's secrets through labgen's own store: .labgen/secrets/munge.key is the raw key file
    // that travels to a Pi as secrets/munge.key beside setup.sh
    const labDir = join(tmp, 'lab');
    const store = loadSecrets(labDir, 'slurmlab');
    store.persist();
    secrets = store.secrets;
    const rawKey = await readFile(join(labDir, SECRETS_DIR, SECRET.mungeKey));
    expect(rawKey.length).toBe(1024);
    expect(rawKey.toString('base64')).toBe(secrets.mungeKey);

    // munged as user munge with the key installed as setup.sh does (0400 munge:munge), own socket
    const mungeDir = join(tmp, 'munge');
    await mkdir(mungeDir, { mode: 0o755 });
    await chown(mungeDir, uid('munge'), gid('munge'));
    const keyFile = join(mungeDir, 'munge.key');
    await writeFile(keyFile, rawKey, { mode: 0o400 });
    await chmod(keyFile, 0o400);
    await chown(keyFile, uid('munge'), gid('munge'));
    socket = join(mungeDir, 'munge.socket');
    munged = startDaemon(
      'munged',
      ['munged', '-F', `--socket=${socket}`, `--key-file=${keyFile}`, `--pid-file=${join(mungeDir, 'munged.pid')}`,
        `--log-file=${join(mungeDir, 'munged.log')}`, `--seed-file=${join(mungeDir, 'munged.seed')}`],
      process.env,
      ['--reuid=munge', '--regid=munge', '--init-groups'],
    );
    await waitFor('munged answers on its socket', 10_000, async () => {
      if (!existsSync(socket)) return false;
      const cred = await run('munge', ['-S', socket, '-n']);
      return cred.code === 0 && (await run('unmunge', ['-S', socket], { input: cred.stdout })).code === 0;
    }, () => munged!.output());
  });

  afterAll(async () => {
    await munged?.stop();
    for (const h of group?.hosts ?? []) await killStragglers(h.netns);
    await group?.stopAll();
    removeSlurmCgroups(['pi1', 'pi2']);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** A lab whose Slurm nodes are the test hosts; the controller is k8s (at ctl's IP) or the Pi ctl. */
  function testLab(controller: 'k8s' | 'pi'): Lab {
    const g = group!;
    const [pi1, pi2, ctl] = g.hosts;
    const prefix = g.subnet.split('.').slice(0, 3).join('.');
    return validateLab({
      version: 1,
      name: 'slurmlab',
      network: { subnet: g.subnet },
      cluster: { controlPlane: { name: 'k8s', ip: `${prefix}.200` }, workers: { count: 0 } },
      pis: {
        nodes: [
          // no memory given: no RealMemory in slurm.conf (a pi5 used to promise 7600 MiB); its
          // model's 4 CPUs would not fit this machine (2 cores)
          { name: 'pi1', ip: pi1!.ip, model: 'pi5', cpus: 2 },
          { name: 'pi2', ip: pi2!.ip, cpus: 1, memory: 500 },
          ...(controller === 'pi' ? [{ name: 'ctl', ip: ctl!.ip, roles: [] }] : []),
        ],
      },
      ...(controller === 'k8s'
        ? {
            // slurmctld's image comes from the lab registry, which takes TLS from cert-manager
            services: {
              metallb: { addresses: [`${ctl!.ip}-${ctl!.ip}`, `${prefix}.150-${prefix}.150`] },
              certManager: {},
              registry: { ip: `${prefix}.150` },
            },
            slurm: { controller: 'k8s', ip: ctl!.ip, nodes: ['pi1', 'pi2'] },
          }
        : { slurm: { controller: 'ctl', nodes: ['pi1', 'pi2'] } }),
    });
  }

  it.each(['k8s', 'pi'] as const)(
    'controller %s: both nodes idle in sinfo, `srun -N2 hostname` prints pi1 and pi2',
    async (controller) => {
      const g = group!;
      const lab = testLab(controller);
      const files = plan(lab, secrets);
      // the conf slurmctld reads: slurm/ for k8s (its pod mounts it), the controller Pi's /etc/slurm/
      const confDir = controller === 'k8s' ? 'slurm' : 'pis/ctl/rootfs/etc/slurm';
      const generated = fileAt(files, `${confDir}/slurm.conf`).contents;
      expect(generated).toBe(slurmConf(lab));
      const ctlName = /^SlurmctldHost=([^(]+)\(([^)]+)\)$/m.exec(generated);
      expect(ctlName?.slice(1)).toEqual([controller === 'k8s' ? SLURMCTLD_K8S_HOSTNAME : 'ctl', g.host('ctl').ip]);
      // pi2's /etc/default/slurmd, as generated: slurmd gets its config from --conf-server
      const slurmdDefaults = fileAt(files, 'pis/pi2/rootfs/etc/default/slurmd');
      expect(slurmdDefaults.contents).toContain(`SLURMD_OPTIONS="--conf-server ${g.host('ctl').ip}:6817"`);

      const dir = join(tmp, controller);
      const paths = {
        etc: join(dir, 'etc'),
        state: join(dir, 'state'),
        log: join(dir, 'log'),
        run: join(dir, 'run'),
        spool: join(dir, 'spool'),
      };
      // the spool dirs exist on a Pi (Debian's slurmd package makes /var/lib/slurm/slurmd)
      for (const p of [...Object.values(paths), join(paths.spool, 'pi1'), join(paths.spool, 'pi2')]) await mkdir(p, { recursive: true, mode: 0o755 });
      for (const p of [paths.state, paths.log, paths.run]) await chown(p, uid('slurm'), gid('slurm'));
      const conf = redirect(generated, {
        StateSaveLocation: paths.state,
        SlurmdSpoolDir: join(paths.spool, '%n'),
        SlurmctldPidFile: join(paths.run, 'slurmctld.pid'),
        SlurmdPidFile: join(paths.run, 'slurmd-%n.pid'),
        SlurmctldLogFile: join(paths.log, 'slurmctld.log'),
        SlurmdLogFile: join(paths.log, 'slurmd-%n.log'),
        AuthInfo: `socket=${socket}`,
      });
      expect(changedKeys(generated, conf).sort()).toEqual([...TEST_ONLY].sort());
      const SLURM_CONF = join(paths.etc, 'slurm.conf');
      await writeFile(SLURM_CONF, conf);
      // cgroup.conf beside it, unchanged: slurmctld serves it to the configless slurmd
      await writeFile(join(paths.etc, 'cgroup.conf'), fileAt(files, `${confDir}/cgroup.conf`).contents);
      const defaultsFile = join(dir, 'default-slurmd');
      await writeFile(defaultsFile, slurmdDefaults.contents);

      const withConf = { ...process.env, SLURM_CONF };
      const { SLURM_CONF: _unset, ...noConf } = process.env;
      const daemons: Daemon[] = [];
      const logs = () =>
        [
          ...daemons.map((d) => `--- ${d.name} (${d.running() ? 'running' : `exited ${d.proc.exitCode ?? d.proc.signalCode}`})\n${d.output().slice(-3000)}`),
          ...['slurmctld.log', 'slurmd-pi1.log', 'slurmd-pi2.log'].map((f) => {
            const p = join(paths.log, f);
            return `--- ${f}\n${existsSync(p) ? readFileSync(p, 'utf8').slice(-3000) : '(none)'}`;
          }),
        ].join('\n');
      const inNetns = (host: string, script: string, extra: string[] = []) => [
        'nsenter', `--net=/run/netns/${g.host(host).netns}`, 'unshare', '--uts', ...extra, 'bash', '-euc', script,
      ];
      try {
        // slurmctld under the host name SlurmctldHost gives, in ctl's namespace (its own ports)
        daemons.push(startDaemon('slurmctld', inNetns('ctl', `hostname ${ctlName![1]}; exec slurmctld -D -f "$SLURM_CONF"`), withConf));
        // pi1 reads slurm.conf from a file (-f, as the controller Pi's own slurmd could)
        daemons.push(startDaemon('slurmd pi1', inNetns('pi1', 'hostname pi1; exec slurmd -D -N pi1 -f "$SLURM_CONF"'), withConf));
        // pi2 is configless, as on a compute Pi: no SLURM_CONF, an empty /etc/slurm, its own /run
        // (slurmd links /run/slurm/conf to its cache there), options from the generated
        // /etc/default/slurmd sourced as Debian's init script does. Before it has slurm.conf it
        // cannot know AuthInfo: it asks munge at Debian's default socket, as on a Pi, so our
        // munged's socket is linked there (in this private /run only).
        daemons.push(
          startDaemon(
            'slurmd pi2 (configless)',
            inNetns(
              'pi2',
              [
                'mount -t tmpfs labgen-test /etc/slurm',
                'mount -t tmpfs labgen-test /run',
                `mkdir /run/munge && ln -s ${socket} /run/munge/munge.socket.2`,
                'test ! -e /etc/slurm/slurm.conf && test -z "${SLURM_CONF:-}"',
                'hostname pi2',
                `. ${defaultsFile}`,
                // unquoted: split into words, as systemd does with $SLURMD_OPTIONS
                'exec slurmd -D -N pi2 $SLURMD_OPTIONS',
              ].join('\n'),
              ['--mount', '--propagation', 'private'],
            ),
            noConf,
          ),
        );

        const sinfo = async () => (await run('sinfo', ['-h', '-N', '-o', '%N %T'], { env: withConf })).stdout.trim();
        await waitFor('pi1 and pi2 idle in sinfo', 20_000, async () => (await sinfo()) === 'pi1 idle\npi2 idle', logs);
        expect(await sinfo()).toBe('pi1 idle\npi2 idle');
        // slurmctld read the NodeName lines as generated: pi2 promises the 500 MiB lab.yaml gives
        // it, pi1 (none given) Slurm's 1 MiB, so neither can be drained for memory
        const node = async (name: string) => (await run('scontrol', ['show', 'node', name, '-o'], { env: withConf })).stdout;
        for (const [name, memory] of [['pi1', 1], ['pi2', 500]] as const) {
          const shown = await node(name);
          expect(shown, name).toMatch(new RegExp(`\\bRealMemory=${memory}\\b`));
          expect(shown, name).toMatch(/\bState=IDLE\b/);
          expect(shown, name).not.toMatch(/\bReason=/);
        }

        const srun = await run('timeout', ['30', 'srun', '-N2', 'hostname'], { env: withConf });
        expect(srun.code, `${srun.stderr}\n${logs()}`).toBe(0);
        expect(srun.stdout.trim().split('\n').sort()).toEqual(['pi1', 'pi2']);

        // pi2 really fetched its config from slurmctld: the cache holds the controller's files
        const cache = join(paths.spool, 'pi2', 'conf-cache');
        expect(readFileSync(join(cache, 'slurm.conf'), 'utf8')).toBe(conf);
        expect(readFileSync(join(cache, 'cgroup.conf'), 'utf8')).toBe(fileAt(files, `${confDir}/cgroup.conf`).contents);
        for (const d of daemons) expect(d.running(), `${d.name}\n${logs()}`).toBe(true);
      } finally {
        for (const d of [...daemons].reverse()) await d.stop();
        for (const h of g.hosts) await killStragglers(h.netns);
      }
    },
    90_000,
  );
});

/**
 * Processes in one of our test hosts' network namespaces that are not inside the host's own PID
 * namespace (its sshd and what sshd runs): those are what this test started there with nsenter
 * (slurmd, slurmctld, a slurmstepd left by a failed srun). Killed by PID.
 */
async function killStragglers(netns: string): Promise<void> {
  const ours = pidNs(process.pid);
  const pids = (await run('ip', ['netns', 'pids', netns])).stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    if (pidNs(pid) !== ours) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function pidNs(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/**
 * proctrack/cgroup and task/cgroup (the generated config, unchanged) run here on this machine's
 * cgroup v1 hierarchy, where slurmd makes /sys/fs/cgroup/<controller>/slurm_<node>/ and leaves it
 * when it stops. Remove those (empty) cgroups again; one still in use stays (rmdir fails).
 */
function removeSlurmCgroups(nodes: string[]): void {
  const rmTree = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch {
      /* in use, or gone */
    }
  };
  let controllers: string[] = [];
  try {
    controllers = readdirSync('/sys/fs/cgroup');
  } catch {
    return;
  }
  for (const c of controllers)
    for (const node of nodes) {
      const dir = join('/sys/fs/cgroup', c, `slurm_${node}`);
      if (existsSync(dir)) rmTree(dir);
    }
}

function uid(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  return Number(line.split(':')[2]);
}

function gid(group: string): number {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${group}:`));
  if (!line) throw new Error(`no group ${group}`);
  return Number(line.split(':')[2]);
}
