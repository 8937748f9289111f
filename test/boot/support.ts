/**
 * What the tests of booted Pis (test/boot/) share: a lab folder imaged and its LAN (bootedLab),
 * the built CLI run inside the LAN, ssh to a Pi as the lab user with only the host key labgen
 * pinned, and a wait that polls.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import yaml from 'js-yaml';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Timing } from '../../drivers/push/push.js';
import { REPO_ROOT } from '../support/generated.js';
import { baseImage, bootPi, GUEST_NIC, removeImage, startPiNet, type BaseRelease, type BootedPi, type PiNet } from '../support/pi-boot/index.js';
import { run, type ExecResult } from '../support/test-hosts.js';

export const MINUTE = 60_000;
export const LABGEN = join(REPO_ROOT, 'dist/bin/labgen.js');

/** A command's result, for an assertion's message. */
export const text = (r: ExecResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The built CLI inside the LAN (where it reaches the Pis), on the lab at `labFile`. */
export function labgenIn(net: PiNet, labFile: string, ...args: string[]): Promise<ExecResult> {
  return net.run('node', [LABGEN, ...args, '--lab', labFile]);
}

/**
 * `labgen push NODE...` with other cut-over timeouts than the CLI's: pushCommand (tsc's build of
 * generator/cli/push.ts, what the CLI runs) called by a node inside the LAN. Its output is the
 * CLI's, its return the exit code.
 */
export function pushWithTiming(net: PiNet, labFile: string, nodes: string[], timing: Partial<Timing>): Promise<ExecResult> {
  const push = pathToFileURL(join(REPO_ROOT, 'dist/generator/cli/push.js')).href;
  const script = [
    `const { pushCommand } = await import(${JSON.stringify(push)});`,
    'const a = JSON.parse(process.argv[1]);',
    'process.exitCode = await pushCommand(a.nodes, { lab: a.lab, timing: a.timing });',
  ].join('\n');
  return net.run('node', ['--input-type=module', '-e', script, JSON.stringify({ nodes, lab: labFile, timing })]);
}

/** A command on the Pi at `ip` as the lab user, over an ssh that accepts only the host key labgen pinned. */
export function labSsh(net: PiNet, labDir: string, ip: string, command: string): Promise<ExecResult> {
  return net.run('ssh', [
    '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${join(labDir, '.labgen/known_hosts')}`, '-o', 'ConnectTimeout=30',
    '-i', join(labDir, '.labgen/secrets/id_ed25519'), `pi@${ip}`, command,
  ]);
}

/** Run `probe` every `everyMs` until `done` says so or `timeoutMs` passed; the last result either way. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs: number, everyMs = 2000): Promise<T> {
  let last = await probe();
  for (const end = Date.now() + timeoutMs; !done(last) && Date.now() < end; ) {
    await sleep(everyMs);
    last = await probe();
  }
  return last;
}

/** A lab folder whose Pis are imaged with `labgen image` and booted on one LAN (filled in by beforeAll). */
export interface BootedLab<N extends string> {
  tmp: string;
  labDir: string;
  labFile: string;
  net: PiNet;
  /** the base image of each release the lab's Pis run */
  bases: Partial<Record<BaseRelease, string>>;
  /** each Pi's `labgen image` run and the image it made */
  imageRuns: Record<N, ExecResult>;
  images: Record<N, string>;
  /** the Pis booted so far (the test boots them): their serial logs are printed when a test fails */
  pis: Partial<Record<N, BootedPi>>;
}

/**
 * The hooks of a test of booted Pis: beforeAll writes `lab` as lab.yaml in a temp folder,
 * generates it, takes a base image per release (one after the other: two builds at once only
 * compete; `onBases` sees them before they are used), runs `labgen image` for each Pi from the
 * base of its release and starts the LAN; a failed test prints the Pis' serial logs; afterAll
 * stops the LAN (and the Pis with it) and removes the bases and the folder.
 */
export function bootedLab<N extends string>(o: {
  prefix: string;
  lab: object;
  releases: Record<N, BaseRelease>;
  onBases?: (bases: Partial<Record<BaseRelease, string>>) => Promise<void>;
}): BootedLab<N> {
  const lab = { bases: {}, imageRuns: {}, images: {}, pis: {} } as BootedLab<N>;
  const nodes = Object.keys(o.releases) as N[];
  beforeAll(async () => {
    lab.tmp = await mkdtemp(join(tmpdir(), o.prefix));
    lab.labDir = join(lab.tmp, 'lab');
    lab.labFile = join(lab.labDir, 'lab.yaml');
    await mkdir(lab.labDir);
    await writeFile(lab.labFile, yaml.dump(o.lab));
    const gen = await run('node', [LABGEN, 'generate', '--lab', lab.labFile]);
    if (gen.code !== 0) throw new Error(`labgen generate: ${text(gen)}`);
    for (const release of new Set(Object.values<BaseRelease>(o.releases))) lab.bases[release] = await baseImage(release);
    await o.onBases?.(lab.bases);
    // one run per Pi: a base image is one release, and each Pi's image comes from its own
    const out = join(lab.tmp, 'images');
    for (const node of nodes) {
      lab.imageRuns[node] = await run('node', [LABGEN, 'image', node, '--base', lab.bases[o.releases[node]]!, '--out', out, '--lab', lab.labFile]);
      lab.images[node] = join(out, `${node}.img`);
    }
    lab.net = await startPiNet();
  }, 30 * MINUTE);

  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const pi of Object.values<BootedPi | undefined>(lab.pis)) if (pi) process.stderr.write(`${pi.tail(80)}\n`);
  });

  afterAll(async () => {
    await lab.net?.stop(); // stops the Pis too
    for (const base of Object.values<string | undefined>(lab.bases)) if (base) removeImage(base);
    if (lab.tmp) await rm(lab.tmp, { recursive: true, force: true });
  }, 5 * MINUTE);
  return lab;
}

/**
 * Every Pi of `lab` from the image its `labgen image` run made (exit 0), booted, answering ssh
 * at its address in `ips` with the host key labgen pinned and its own hostname.
 */
export async function bootEvery<N extends string>(lab: BootedLab<N>, ips: Record<N, string>, timeoutMs: number): Promise<void> {
  const nodes = Object.keys(ips) as N[];
  for (const node of nodes) expect(lab.imageRuns[node].code, text(lab.imageRuns[node])).toBe(0);
  for (const node of nodes) lab.pis[node] = await bootPi(lab.net, lab.images[node], { name: node });
  await Promise.all(nodes.map((node) => lab.pis[node]!.waitForSsh(ips[node], timeoutMs)));
  for (const node of nodes) {
    const r = await labSsh(lab.net, lab.labDir, ips[node], 'hostname');
    expect(r.stdout.trim(), text(r)).toBe(node);
  }
}

/** The gateway of the LAN startPiNet makes (its bridge's address), the lab's gateway too. */
export const GATEWAY = '10.42.0.1';

/**
 * lab.yaml of a lab of booted Pis on startPiNet's LAN: bookworm unless a node says otherwise,
 * the guest's NIC, the lab user `pi`. No VM is brought up: the cluster section is only there
 * because the schema wants it.
 */
export function piLabYaml(o: { name: string; domain: string; nodes: object[]; slurm: object; dns?: string[] }) {
  return {
    version: 1,
    name: o.name,
    domain: o.domain,
    network: { subnet: '10.42.0.0/24', gateway: GATEWAY, ...(o.dns ? { dns: o.dns } : {}), upstreamDns: [GATEWAY] },
    cluster: { controlPlane: { name: 'cp', ip: '10.42.0.250' }, workers: { count: 0 } },
    pis: { os: 'bookworm', interface: GUEST_NIC, user: 'pi', authorizedKeys: [], nodes: o.nodes },
    slurm: o.slurm,
  };
}
