#!/usr/bin/env node
// Benchmark: `labgen generate` wall time as a process, against bare `node` startup measured in
// the same run (the named baseline: no program can start faster than the runtime it runs on).
// Prints, for the 5-Pi seed lab and a synthetic 500-Pi lab on a /16: the first generate (which
// also makes the secrets), a generate whose secrets exist, a regenerate with no change (and how
// many files it wrote: must be 0), and `labgen --help`; each with its peak RSS.
// Then a 10,000-Pi lab on the same /16, run once each (a minute apiece, 4 GB of lab folder:
// every Pi's /etc/hosts lists every host): the first generate, a regenerate with no change,
// --check, and a regenerate after one Pi's address changed (every /etc/hosts rewritten), with
// wall time and peak RSS. BENCH_10K=0 skips it.
// Targets (issue #2): 5-Pi ≤ 0.3 s, 500-Pi ≤ 1.5 s, --help ≤ 150 ms; (issue #10) 10,000 Pis:
// every run ≤ 1 GiB peak RSS (it was 4 GB for the first generate, then out of memory).
//
// Peak RSS is the child's own high-water mark: each timed labgen runs with `--require` of a
// two-line hook that, on exit, appends `process.resourceUsage().maxRSS` (getrusage's ru_maxrss,
// KiB) to a file the bench names in LABGEN_BENCH_RSS. A run that dies (out of memory) fails the
// bench with its exit status.
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

/** `labgen args` as a child process: wall time (s) and the child's peak RSS (MiB, from the hook) */
function wall(args, opts = {}) {
  writeFileSync(RSS_FILE, '');
  const t = performance.now();
  execFileSync(process.execPath, ['--require', RSS_HOOK, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LABGEN_BENCH_RSS: RSS_FILE },
    ...opts,
  });
  const seconds = (performance.now() - t) / 1000;
  const kib = Number(readFileSync(RSS_FILE, 'utf8').trim().split('\n').pop());
  return { seconds, rss: kib / 1024 };
}

/** median wall time of RUNS runs of `args` (or of what `args()` returns after `setup`, both untimed), and the largest peak RSS */
function median(args, setup = () => {}) {
  const times = [];
  let rss = 0;
  for (let i = 0; i < RUNS; i++) {
    setup();
    execFileSync('sync'); // the set-up's own writes must not be flushed inside the timed run
    const run = wall(typeof args === 'function' ? args() : args);
    times.push(run.seconds);
    rss = Math.max(rss, run.rss);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], rss };
}

/** n Pis on 10.10.0.0/16, 250 a /24 from 10.10.1.0 (10,000 Pis end at 10.10.40.250), clear of the pool (.100) and DHCP (.200) */
function syntheticLab(n) {
  const width = String(n - 1).length;
  const name = (i) => `pi${String(i).padStart(width, '0')}`;
  const nodes = Array.from({ length: n }, (_, i) => {
    const ip = `10.10.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    return `    - { name: ${name(i)}, ip: ${ip}, roles: [${i === 0 ? 'storage, aptcache' : 'compute'}] }`;
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
slurm: { controller: k8s, ip: 10.10.100.2, nodes: [${Array.from({ length: n - 1 }, (_, i) => name(i + 1)).join(', ')}] }
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

/** the peak RSS hook every timed child loads (see the top), and the file it reports to */
const RSS_HOOK = join(ROOT, 'max-rss.cjs');
const RSS_FILE = join(ROOT, 'max-rss');
writeFileSync(
  RSS_HOOK,
  "process.on('exit', () => require('node:fs').appendFileSync(process.env.LABGEN_BENCH_RSS, `${process.resourceUsage().maxRSS}\\n`));\n",
);

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

/**
 * A lab too big to run RUNS times (each run is most of a minute, its folder 4 GB): each run
 * once, in one folder. The first generate (secrets too: a host key per Pi), a regenerate with no
 * change (must write nothing), --check (must say up to date: exit 0), and a regenerate after the
 * last Pi moved to the next address, which changes every Pi's /etc/hosts.
 */
function benchHuge(n) {
  const dir = freshDir('lab-');
  const file = join(dir, 'lab.yaml');
  const text = syntheticLab(n);
  writeFileSync(file, text);
  const generate = (...flags) => {
    execFileSync('sync');
    return wall([CLI, 'generate', ...flags, '--lab', file]);
  };
  const changedSince = (before) => [...filesIn(dir)].filter(([p, m]) => before.get(p) !== m).length;
  const first = generate();
  let before = filesIn(dir);
  const again = generate();
  const written = changedSince(before);
  const check = generate('--check');
  const ip = (i) => `10.10.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
  writeFileSync(file, text.replace(`ip: ${ip(n - 1)},`, `ip: ${ip(n)},`));
  before = filesIn(dir);
  const moved = generate();
  const rewritten = changedSince(before);
  return { n, files: before.size, first, again, written, check, moved, rewritten };
}

const baseline = median(['-e', '']);
const help = median([CLI, '--help']);
const small = benchLab('5-Pi seed lab (labs/rpi-slurm)', (f) => cpSync('labs/rpi-slurm/lab.yaml', f));
const big = benchLab('500-Pi lab on a /16', (f) => writeFileSync(f, syntheticLab(500)));
const unbundled = benchLab('5-Pi, unbundled tsc output', (f) => cpSync('labs/rpi-slurm/lab.yaml', f), UNBUNDLED);
const huge = process.env.BENCH_10K === '0' ? undefined : benchHuge(10_000);

const MIB_TARGET = 1024;
const rssOf = (run, target) => `peak RSS ${run.rss.toFixed(0).padStart(4)} MiB${target ? (run.rss <= target ? ` ok (≤ ${target} MiB)` : ` OVER target ${target} MiB`) : ''}`;
const row = (name, run, target) =>
  `${name.padEnd(44)} ${run.seconds.toFixed(3)} s   ${(run.seconds / baseline.seconds).toFixed(2)}× node startup   ${rssOf(run)}   ${target ? (run.seconds <= target ? `ok (≤ ${target} s)` : `OVER target ${target} s`) : ''}`;
console.log(`baseline: bare node startup (node -e '') ${baseline.seconds.toFixed(3)} s, peak RSS ${baseline.rss.toFixed(0)} MiB, median of ${RUNS}`);
console.log(row('labgen --help', help, 0.15));
for (const r of [small, big, unbundled]) {
  const target = r === big ? 1.5 : r === small ? 0.3 : undefined;
  console.log(row(`${r.label}: first generate (makes secrets)`, r.firstEver));
  console.log(row(`${r.label}: generate`, r.generate, target));
  console.log(`${''.padEnd(44)} file system floor for this folder (mkdir + write + rename only): ${r.floor.toFixed(3)} s; generate is ${(r.generate.seconds / r.floor).toFixed(2)}× it`);
  console.log(row(`${r.label}: regenerate, no change`, r.again, target));
  console.log(`${''.padEnd(44)} files written by the no-change regenerate: ${r.written} of ${r.files} ${r.written === 0 ? 'ok' : 'WRONG (must be 0)'}`);
}
if (huge) {
  const label = `${huge.n.toLocaleString('en')}-Pi lab on a /16`;
  const line = (name, run) => `${`${label}: ${name}`.padEnd(60)} ${run.seconds.toFixed(1).padStart(6)} s   ${rssOf(run, MIB_TARGET)}`;
  console.log(`${label}, ${huge.files} files (.labgen/ too), each run once:`);
  console.log(line('first generate (makes secrets)', huge.first));
  console.log(line('regenerate, no change', huge.again));
  console.log(`${''.padEnd(60)} files written: ${huge.written} ${huge.written === 0 ? 'ok' : 'WRONG (must be 0)'}`);
  console.log(line('generate --check (up to date: exit 0)', huge.check));
  console.log(line('regenerate, one Pi moved (every /etc/hosts)', huge.moved));
  console.log(`${''.padEnd(60)} files written: ${huge.rewritten}`);
}
