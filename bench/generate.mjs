#!/usr/bin/env node
// Benchmark: `labgen generate` wall time as a process, against bare `node` startup measured in
// the same run (the named baseline: no program can start faster than the runtime it runs on).
// Prints, for the 5-Pi seed lab and a synthetic 500-Pi lab on a /16: the first generate (which
// also makes the secrets), a generate whose secrets exist, a regenerate with no change (and how
// many files it wrote: must be 0), and `labgen --help`.
// Targets (issue #2): 5-Pi ≤ 0.3 s, 500-Pi ≤ 1.5 s, --help ≤ 150 ms.
//
// Every timed run writes into a folder of its own, and nothing the bench made is deleted until
// the end. Why: this machine's root file system is ext4 *without a journal*, and there the
// kernel's inode allocator skips every inode freed in the last 60 s (300 s while its inode table
// is dirty), checking each one it passes (`recently_deleted()` in fs/ext4/ialloc.c). Deleting
// the previous 500-Pi tree (~8,500 inodes) right before a run made each mkdir/create walk past
// them: `perf record` put 60 % of that run in that scan, and its wall time went from 0.7-1.0 s
// to 3-4 s, growing with every delete-and-recreate. That measures the bench's own `rm -rf`, not
// labgen; a user generating a lab has not just deleted one.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const CLI = resolve(JSON.parse(readFileSync('package.json', 'utf8')).bin.labgen); // the bundled binary
const UNBUNDLED = resolve('dist/generator/cli/main.js'); // tsc's output, for comparison
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function wall(args) {
  const t = performance.now();
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - t) / 1000;
}

/** median of RUNS runs of `args` (or of what `args()` returns after `setup`, both untimed) */
function median(args, setup = () => {}) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    setup();
    execFileSync('sync'); // the set-up's own writes must not be flushed inside the timed run
    times.push(wall(typeof args === 'function' ? args() : args));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function synthetic500() {
  const nodes = Array.from({ length: 500 }, (_, i) => {
    const ip = `10.10.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    return `    - { name: pi${String(i).padStart(3, '0')}, ip: ${ip}, roles: [${i === 0 ? 'storage, aptcache' : 'compute'}] }`;
  });
  return `version: 1
name: bigLab
domain: big.lab
network: { subnet: 10.10.0.0/16, gateway: 10.10.0.1, dhcpRange: 10.10.200.1-10.10.200.250 }
cluster:
  controlPlane: { name: cp, ip: 10.10.0.10 }
  workers: { count: 3, firstIp: 10.10.0.20 }
pis:
  nodes:
${nodes.join('\n')}
storage: { disk: /dev/sda, exports: [{ name: vol1, size: 100G }] }
services:
  metallb: { addresses: [10.10.100.1-10.10.100.99] }
  coredns: { ip: 10.10.100.1 }
  certManager: {}
  registry: { ip: 10.10.100.3 }
slurm: { controller: k8s, ip: 10.10.100.2, nodes: [${Array.from({ length: 499 }, (_, i) => `pi${String(i + 1).padStart(3, '0')}`).join(', ')}] }
`.replace('bigLab', 'biglab');
}

function filesIn(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p);
      else out.set(p, statSync(p).mtimeMs);
    }
  };
  walk(dir);
  return out;
}

/**
 * Three timings per lab: the very first generate (it also makes the lab's secrets once: SSH
 * keys, a host key per Pi, the registry's bcrypt line), a generate of a fresh folder whose
 * secrets already exist (the lab folder itself: what the targets are about), and a regenerate
 * with no change (which must write nothing).
 */
/**
 * The second named baseline: the file system's own floor for a lab folder, i.e. only making its
 * folders and writing each file to a temp name and renaming it, in this process, nothing else.
 * On a slow or busy disk labgen cannot be faster than this.
 */
function fsFloor(dir) {
  const files = [...filesIn(dir).keys()].filter((p) => !p.includes('/.labgen/'));
  const bytes = files.map((f) => readFileSync(f));
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const out = freshDir('floor-');
    execFileSync('sync');
    const t = performance.now();
    const made = new Set();
    files.forEach((f, k) => {
      const target = join(out, f.slice(dir.length));
      const parent = join(target, '..');
      if (!made.has(parent)) mkdirSync(parent, { recursive: true }), made.add(parent);
      writeFileSync(`${target}.tmp`, bytes[k]);
      renameSync(`${target}.tmp`, target);
    });
    times.push((performance.now() - t) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/** every folder the bench makes lives under here, and is deleted once, at the end (see above) */
const ROOT = mkdtempSync(join(tmpdir(), 'labgen-bench-'));
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130)); // runs the exit hook
const freshDir = (prefix) => mkdtempSync(join(ROOT, prefix));

function benchLab(label, writeLab, cli = CLI) {
  const keep = freshDir('secrets-');
  /** a new lab folder with only lab.yaml (and, once they exist, the secrets): the previous run's folder stays */
  let dir;
  const fresh = (withSecrets) => () => {
    dir = freshDir('lab-');
    writeLab(join(dir, 'lab.yaml'));
    if (withSecrets) cpSync(keep, join(dir, '.labgen'), { recursive: true });
  };
  const generate = () => [cli, 'generate', '--lab', join(dir, 'lab.yaml')];
  const firstEver = median(generate, fresh(false));
  cpSync(join(dir, '.labgen'), keep, { recursive: true });
  rmSync(join(keep, 'manifest.json'), { force: true });
  const fresh500 = median(generate, fresh(true));
  const before = filesIn(dir);
  const again = median(generate);
  const after = filesIn(dir);
  const written = [...after].filter(([p, m]) => before.get(p) !== m).length;
  const floor = fsFloor(dir);
  return { label, firstEver, generate: fresh500, again, written, files: after.size, floor };
}

const baseline = median(['-e', '']);
const help = median([CLI, '--help']);
const small = benchLab('5-Pi seed lab (labs/rpi-slurm)', (f) => cpSync('labs/rpi-slurm/lab.yaml', f));
const big = benchLab('500-Pi lab on a /16', (f) => writeFileSync(f, synthetic500()));
const unbundled = benchLab('5-Pi, unbundled tsc output', (f) => cpSync('labs/rpi-slurm/lab.yaml', f), UNBUNDLED);

const row = (name, s, target) =>
  `${name.padEnd(44)} ${s.toFixed(3)} s   ${(s / baseline).toFixed(2)}× node startup   ${target ? (s <= target ? `ok (≤ ${target} s)` : `OVER target ${target} s`) : ''}`;
console.log(`baseline: bare node startup (node -e '') ${baseline.toFixed(3)} s, median of ${RUNS}`);
console.log(row('labgen --help', help, 0.15));
for (const r of [small, big, unbundled]) {
  const target = r === big ? 1.5 : r === small ? 0.3 : undefined;
  console.log(row(`${r.label}: first generate (makes secrets)`, r.firstEver));
  console.log(row(`${r.label}: generate`, r.generate, target));
  console.log(`${''.padEnd(44)} file system floor for this folder (mkdir + write + rename only): ${r.floor.toFixed(3)} s; generate is ${(r.generate / r.floor).toFixed(2)}× it`);
  console.log(row(`${r.label}: regenerate, no change`, r.again, target));
  console.log(`${''.padEnd(44)} files written by the no-change regenerate: ${r.written} of ${r.files} ${r.written === 0 ? 'ok' : 'WRONG (must be 0)'}`);
}
