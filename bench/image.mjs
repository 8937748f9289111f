#!/usr/bin/env node
// Benchmark (issue #12): `labgen image` per image against a plain sparse copy of the same base,
// `cp --reflink=auto --sparse=always`, measured in the same run on the same disk (the named
// baseline: labgen makes each image from such a copy). And an
// `.img.xz` base against `xz -dc -T0 BASE > FILE` (what labgen runs to decompress it, once for all its Pis).
//
// Bases (test/image/make-base.sh, a Raspberry Pi OS stand-in: MBR, FAT32 boot, ext4 root):
//   sparse     2 GiB, holes but for the file systems' metadata (as a sparse download is)
//   allocated  2 GiB, every block written, with 1 GiB of random data in the root file system
//   xz         the allocated base with 256 MiB of data instead, xz-compressed (xz -1 -T0)
// The lab: 5 Pis (bookworm), generated once. Each labgen run makes all 5 images into a fresh
// folder; per image = wall time / 5. The cp baseline makes 5 copies one after the other (each
// pays the write-back of the ones before, as labgen's do); per copy = time / 5. labgen copies two
// at a time where there are two CPUs (a copy is one CPU's work in the kernel): the CPU time's
// ratio below shows what that does not save, the work itself.
// The sides run in turns, BENCH_RUNS of each; the ratio is the median of the turns' ratios
// (a busy machine's load changes by the minute: a turn compares like with like), after a turn not
// counted. Every turn's figures go to stderr with the machine's load. Beside the wall
// time's ratio, the CPU time's (user + system of the process tree, GNU time): the copy is the
// kernel's work on the CPU here, and CPU time swings far less with other load than wall time does.
// Peak RSS: labgen's own (node's high-water mark, reported on exit by a --require hook, as
// bench/generate.mjs does), and the largest of labgen and every program it ran (cp, debugfs,
// mtools, xz: GNU time's %M, the biggest maxrss of the process tree).
// Targets: ≤ 1.1× cp per image (where the copy is what takes time: the allocated base), labgen's
// RSS ≤ 150 MB whatever the image size. Env: BENCH_RUNS (3, median shown), BENCH_DIR (where the
// bases go, default the OS temp folder: it must be a file system with holes, e.g. ext4 or xfs).
//
// Not the same work: labgen's images are on disk when it ends (each is fsynced before it is
// renamed into place, as every file labgen writes is), where cp leaves its copy in the page cache
// for the kernel to write some time later. So the allocated base's turns have two more sides:
// cp + sync FILE (a copy made as durable), and labgen with every fsync made a no-op (eatmydata,
// here only: when it is installed), which prices durability in the same turns.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = resolve(REPO, JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).bin.labgen);
const MAKE_BASE = join(REPO, 'test/image/make-base.sh');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PIS = 5;
const TARGET_RATIO = 1.1;
const TARGET_RSS_MB = 150;
const EATMYDATA = spawnSync('sh', ['-c', 'command -v eatmydata'], { encoding: 'utf8' }).stdout.trim();
const log = (line) => process.stderr.write(`[bench/image] ${line}\n`);

for (const cmd of ['cp', 'xz', 'sfdisk', 'mkfs.vfat', 'mke2fs', 'mcopy', 'debugfs', '/usr/bin/time'])
  if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0) throw new Error(`bench/image needs ${cmd} (.ci/run lists the Debian packages)`);
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build`);

const ROOT = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'labgen-bench-image-'));
process.on('exit', () => rmSync(ROOT, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
let n = 0;
const fresh = (prefix) => mkdtempSync(join(ROOT, `${prefix}${n++}-`));

const RSS_HOOK = join(ROOT, 'max-rss.cjs');
const RSS_FILE = join(ROOT, 'max-rss');
writeFileSync(RSS_HOOK, "process.on('exit', () => require('node:fs').appendFileSync(process.env.LABGEN_BENCH_RSS, `${process.resourceUsage().maxRSS}\\n`));\n");

/**
 * `cmd args` under GNU time: wall seconds, the process tree's CPU seconds (user + system: on a
 * loaded machine the wall time swings with the load, the CPU time much less), and its peak RSS (MiB)
 */
function timed(cmd, args, env = {}) {
  const tree = join(ROOT, 'tree-rss');
  execFileSync('sync');
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', tree, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, encoding: 'utf8' });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [rssKb, user, sys] = readFileSync(tree, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { seconds, cpu: user + sys, treeMb: rssKb / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** one labgen run, per image: wall and CPU time, labgen's own peak RSS (hook), the tree's (time); `wrap`: a program it runs under */
function labgenImage(lab, base, nodes, wrap = []) {
  const out = fresh('out-');
  writeFileSync(RSS_FILE, '');
  const argv = [process.execPath, '--require', RSS_HOOK, CLI, 'image', ...nodes, '--base', base, '--lab', lab, '--out', out];
  const all = [...wrap, ...argv];
  const r = timed(all[0], all.slice(1), { LABGEN_BENCH_RSS: RSS_FILE });
  const own = Number(readFileSync(RSS_FILE, 'utf8').trim().split('\n').pop()) / 1024;
  const images = readdirSync(out).filter((f) => f.endsWith('.img'));
  if (images.length !== nodes.length) throw new Error(`labgen made ${images.length} images, not ${nodes.length}`);
  const allocated = statSync(join(out, images[0])).blocks * 512;
  rmSync(out, { recursive: true, force: true }); // gigabytes a run: not kept to the end
  return { seconds: r.seconds / nodes.length, cpu: r.cpu / nodes.length, ownMb: own, treeMb: r.treeMb, allocated };
}

/**
 * Each side once a turn, in order, BENCH_RUNS turns (labgen, baseline, labgen, …), so all see the
 * same load on a shared machine: every side's results, turn by turn. A first turn is not counted:
 * whichever side runs first after the bases are made pays the kernel's reclaim of the page cache
 * they filled (measured: labgen's first allocated run took twice the CPU time of the next ones).
 */
function turns(sides) {
  for (const run of Object.values(sides)) run();
  const out = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [k, run] of Object.entries(sides)) out[k].push(run());
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    log(`turn ${i + 1}, per image (wall/CPU s): ${Object.keys(sides).map((k) => `${k} ${out[k][i].seconds.toFixed(3)}/${out[k][i].cpu.toFixed(3)}`).join(', ')}; load ${load}`);
  }
  return out;
}

/** a table row: side `a` against side `b` of the same turns (per image; the ratio the median of the turns') */
function row(label, baseline, a, b) {
  return {
    label,
    baseline,
    perImage: median(a.map((r) => r.seconds)),
    floor: median(b.map((r) => r.seconds)),
    ratio: median(a.map((r, i) => r.seconds / b[i].seconds)),
    cpuRatio: median(a.map((r, i) => r.cpu / b[i].cpu)),
    ownMb: Math.max(...a.map((r) => r.ownMb ?? 0)),
    treeMb: Math.max(...a.map((r) => r.treeMb ?? 0)),
    allocated: a[0].allocated,
  };
}

// ---------------------------------------------------------------- the lab and the bases

const labDir = fresh('lab-');
const LAB = join(labDir, 'lab.yaml');
writeFileSync(
  LAB,
  `version: 1
name: benchlab
domain: bench.lab
network: { subnet: 10.20.0.0/24, gateway: 10.20.0.1 }
cluster:
  controlPlane: { name: cp, ip: 10.20.0.10 }
  workers: { count: 0 }
pis:
  os: bookworm
  nodes:
${Array.from({ length: PIS }, (_, i) => `    - { name: pi${i}, ip: 10.20.0.${21 + i}, roles: [${i === 0 ? 'aptcache, compute' : 'compute'}] }`).join('\n')}
services:
  metallb: { addresses: [10.20.0.100-10.20.0.119] }
  coredns: { ip: 10.20.0.100 }
slurm: { controller: pi0, nodes: [${Array.from({ length: PIS }, (_, i) => `pi${i}`).join(', ')}] }
`,
);
execFileSync(process.execPath, [CLI, 'generate', '--lab', LAB], { stdio: 'ignore' });
const NODES = Array.from({ length: PIS }, (_, i) => `pi${i}`);

const bases = fresh('bases-');
const make = (name, ...args) => {
  const file = join(bases, name);
  log(`making ${name}`);
  execFileSync(MAKE_BASE, [file, 'bookworm', '--size', '2048', ...args], { stdio: 'inherit' });
  return file;
};
const sparse = make('sparse.img');
const allocated = make('allocated.img', '--data', '1024', '--allocated');
const xzSource = make('xz-source.img', '--data', '256');
log('compressing the xz base (xz -1 -T0)');
execFileSync('xz', ['-1', '-T0', '-k', xzSource]);
const xzBase = `${xzSource}.xz`;

/**
 * `count` cps of `base` one after the other (the named baseline; labgen copies two at a time
 * where there are two CPUs), timed as one, each paying the write-back of the ones before; per copy. `synced`: each copy then flushed to
 * disk (`sync FILE`), as labgen's images are when it ends.
 */
const cp = (base, count, synced = false) => () => {
  const dir = fresh('cp-');
  const sync = synced ? ` && sync "${dir}/copy$i.img"` : '';
  const { seconds, cpu } = timed('sh', ['-c', `for i in $(seq ${count}); do cp --reflink=auto --sparse=always -- '${base}' "${dir}/copy$i.img"${sync} || exit 1; done`]);
  rmSync(dir, { recursive: true, force: true });
  return { seconds: seconds / count, cpu: cpu / count };
};
/** `xz -dc -T0 BASE > FILE`, timed (xz leaves holes for the zeros in a regular file on its stdout, as in labgen's run) */
const unxz = (base) => () => {
  const dest = join(fresh('xz-'), 'copy.img');
  const { seconds, cpu } = timed('sh', ['-c', `xz -dc -T0 -- '${base}' > '${dest}'`]);
  rmSync(dest);
  return { seconds, cpu };
};
const labgen = (base, nodes, wrap) => () => labgenImage(LAB, base, nodes, wrap);

const sparseTurns = turns({ labgen: labgen(sparse, NODES), cp: cp(sparse, PIS) });
const allocatedTurns = turns({
  labgen: labgen(allocated, NODES),
  cp: cp(allocated, PIS),
  ...(EATMYDATA ? { unsynced: labgen(allocated, NODES, [EATMYDATA]) } : {}),
  synced: cp(allocated, PIS, true),
});
const xzTurns = [1, PIS].map((n) => turns({ labgen: labgen(xzBase, NODES.slice(0, n)), unxz: unxz(xzBase) }));

const copyBound = row('allocated 2 GiB .img, 5 Pis', 'cp', allocatedTurns.labgen, allocatedTurns.cp);
const synced = row('  the same, against cp + sync', 'cp + sync', allocatedTurns.labgen, allocatedTurns.synced);
const unsynced = EATMYDATA && row('  labgen, fsync off (eatmydata)', 'cp', allocatedTurns.unsynced, allocatedTurns.cp);
const rows = [
  row('sparse 2 GiB .img, 5 Pis', 'cp', sparseTurns.labgen, sparseTurns.cp),
  copyBound,
  synced,
  ...(unsynced ? [unsynced] : []),
  row('.img.xz, 1 Pi', 'xz -dc > file', xzTurns[0].labgen, xzTurns[0].unxz),
  row('.img.xz, 5 Pis', 'xz -dc > file', xzTurns[1].labgen, xzTurns[1].unxz),
];

const MiB = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const pad = (s, w) => String(s).padEnd(w);
console.log(`labgen image, per image, against its baseline in turns in the same run (medians of ${RUNS}; ${PIS} Pis; bases 2 GiB; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end):`);
console.log(`  ${pad('base', 32)}${pad('labgen/image', 14)}${pad('baseline', 26)}${pad('ratio', 8)}${pad('CPU ratio', 11)}${pad('labgen RSS', 12)}${pad('tree RSS', 10)}image on disk`);
for (const r of rows) {
  const baseline = `${r.baseline} ${r.floor.toFixed(r.baseline.startsWith('xz') ? 2 : 3)} s`;
  console.log(`  ${pad(r.label, 32)}${pad(`${r.perImage.toFixed(3)} s`, 14)}${pad(baseline, 26)}${pad(`${r.ratio.toFixed(2)}×`, 8)}${pad(`${r.cpuRatio.toFixed(2)}×`, 11)}${pad(`${r.ownMb.toFixed(0)} MiB`, 12)}${pad(`${r.treeMb.toFixed(0)} MiB`, 10)}${MiB(r.allocated)}`);
}
const rss = Math.max(...rows.map((r) => r.ownMb));
const verdict = (x) => `${x.ratio.toFixed(2)}× ${x.ratio <= TARGET_RATIO ? 'ok' : 'MISSED'} (CPU time ${x.cpuRatio.toFixed(2)}×)`;
console.log(`targets: allocated base ≤ ${TARGET_RATIO}× cp per image: ${verdict(copyBound)} (against cp + sync: ${verdict(synced)}); labgen RSS ≤ ${TARGET_RSS_MB} MB: ${(rss * 1.048576).toFixed(0)} MB ${rss * 1.048576 <= TARGET_RSS_MB ? 'ok' : 'MISSED'}`);
console.log("durability: labgen's images are on disk when it ends (fsync before the rename into place); cp's copies are still in the page cache");
if (unsynced) {
  const cost = row('', '', allocatedTurns.labgen, allocatedTurns.unsynced);
  console.log(`  its price, labgen against itself with fsync off in the same turns: ${cost.ratio.toFixed(2)}× wall (${((cost.perImage - unsynced.perImage) * 1000).toFixed(0)} ms an image), CPU time ${cost.cpuRatio.toFixed(2)}×`);
} else console.log('  (install eatmydata to price it: labgen with fsync off, in the same turns)');
console.log(`(the sparse base's copy is only its metadata, ${rows[0].floor.toFixed(3)} s: there labgen's own work per image, ${((rows[0].perImage - rows[0].floor) * 1000).toFixed(0)} ms, is what shows)`);
