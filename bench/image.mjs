#!/usr/bin/env node
// Benchmark (issue #12): `labgen image` per image against a plain sparse copy of the same base,
// `cp --reflink=auto --sparse=always`, measured in the same run on the same disk (the named
// baseline: labgen makes each image from such a copy, so it cannot be faster than one). And an
// `.img.xz` base against `xz -dc -T0 BASE > FILE` (the decompression labgen streams from).
//
// Bases (test/image/make-base.sh, a Raspberry Pi OS stand-in: MBR, FAT32 boot, ext4 root):
//   sparse     2 GiB, holes but for the file systems' metadata (as a sparse download is)
//   allocated  2 GiB, every block written, with 1 GiB of random data in the root file system
//   xz         the allocated base with 256 MiB of data instead, xz-compressed (xz -1 -T0)
// The lab: 5 Pis (bookworm), generated once. Each labgen run makes all 5 images into a fresh
// folder; per image = wall time / 5. The cp baseline makes 5 copies one after the other in the
// same way (each pays the write-back of the ones before, as labgen's do); per copy = time / 5.
// The two sides run in turns, BENCH_RUNS of each; the ratio is the median of the turns' ratios
// (a busy machine's load changes by the minute: a turn compares like with like). Beside the wall
// time's ratio, the CPU time's (user + system of the process tree, GNU time): the copy is the
// kernel's work on the CPU here, and CPU time swings far less with other load than wall time does.
// Peak RSS: labgen's own (node's high-water mark, reported on exit by a --require hook, as
// bench/generate.mjs does), and the largest of labgen and every program it ran (cp, debugfs,
// mtools, xz: GNU time's %M, the biggest maxrss of the process tree).
// Targets: ≤ 1.1× cp per image (where the copy is what takes time: the allocated base), labgen's
// RSS ≤ 150 MB whatever the image size. Env: BENCH_RUNS (3, median shown), BENCH_DIR (where the
// bases go, default the OS temp folder: it must be a file system with holes, e.g. ext4 or xfs).
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

/** every labgen run: wall, labgen's own peak RSS (hook), the tree's (time) */
function labgenImage(lab, base, nodes) {
  const out = fresh('out-');
  writeFileSync(RSS_FILE, '');
  const r = timed(process.execPath, ['--require', RSS_HOOK, CLI, 'image', ...nodes, '--base', base, '--lab', lab, '--out', out], { LABGEN_BENCH_RSS: RSS_FILE });
  const own = Number(readFileSync(RSS_FILE, 'utf8').trim().split('\n').pop()) / 1024;
  const images = readdirSync(out).filter((f) => f.endsWith('.img'));
  if (images.length !== nodes.length) throw new Error(`labgen made ${images.length} images, not ${nodes.length}`);
  const allocated = statSync(join(out, images[0])).blocks * 512;
  rmSync(out, { recursive: true, force: true }); // gigabytes a run: not kept to the end
  return { ...r, ownMb: own, allocated };
}

/**
 * labgen and its baseline in turns (labgen, baseline, labgen, …), so both see the same load on a
 * shared machine; the ratio is the median of each turn's ratio
 */
function bench(label, base, baseline, nodes) {
  const runs = [];
  const floors = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(labgenImage(LAB, base, nodes));
    floors.push(baseline());
  }
  const perImage = runs.map((r) => r.seconds / nodes.length);
  const cpuPerImage = runs.map((r) => r.cpu / nodes.length);
  return {
    label,
    perImage: median(perImage),
    floor: median(floors.map((f) => f.seconds)),
    ratio: median(perImage.map((t, i) => t / floors[i].seconds)),
    cpuRatio: median(cpuPerImage.map((t, i) => t / floors[i].cpu)),
    ownMb: Math.max(...runs.map((r) => r.ownMb)),
    treeMb: Math.max(...runs.map((r) => r.treeMb)),
    allocated: runs[0].allocated,
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
 * `count` cps of `base` one after the other, as labgen makes its images (so both pay the same
 * write-back of the copies before), timed as one; per copy. `synced`: each copy then flushed to
 * disk (`sync FILE`), as labgen's images are: debugfs fsyncs the image file it closes, so an
 * image is on disk when labgen says it is done, where a bare cp leaves it in the page cache.
 */
const cp = (base, count, synced = false) => () => {
  const dir = fresh('cp-');
  const sync = synced ? ` && sync "${dir}/copy$i.img"` : '';
  const { seconds, cpu } = timed('sh', ['-c', `for i in $(seq ${count}); do cp --reflink=auto --sparse=always -- '${base}' "${dir}/copy$i.img"${sync} || exit 1; done`]);
  rmSync(dir, { recursive: true, force: true });
  return { seconds: seconds / count, cpu: cpu / count };
};
/** `xz -dc -T0 BASE > FILE`, timed (the shell's redirect: a plain, non-sparse file) */
const unxz = (base) => () => {
  const dest = join(fresh('xz-'), 'copy.img');
  const { seconds, cpu } = timed('sh', ['-c', `xz -dc -T0 -- '${base}' > '${dest}'`]);
  rmSync(dest);
  return { seconds, cpu };
};

const rows = [
  bench('sparse 2 GiB .img, 5 Pis', sparse, cp(sparse, PIS), NODES),
  bench('allocated 2 GiB .img, 5 Pis', allocated, cp(allocated, PIS), NODES),
  bench('  the same, cp + sync FILE', allocated, cp(allocated, PIS, true), NODES),
  bench('.img.xz, 1 Pi', xzBase, unxz(xzBase), NODES.slice(0, 1)),
  bench('.img.xz, 5 Pis', xzBase, unxz(xzBase), NODES),
];

const MiB = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const pad = (s, w) => String(s).padEnd(w);
console.log(`labgen image, per image, against its baseline in turns in the same run (medians of ${RUNS}; ${PIS} Pis; bases 2 GiB):`);
console.log(`  ${pad('base', 30)}${pad('labgen/image', 14)}${pad('baseline', 26)}${pad('ratio', 8)}${pad('CPU ratio', 11)}${pad('labgen RSS', 12)}${pad('tree RSS', 10)}image on disk`);
for (const r of rows) {
  const baseline = r.label.startsWith('.img.xz') ? `xz -dc > file ${r.floor.toFixed(2)} s` : `${r.label.includes('sync') ? 'cp + sync' : 'cp'} ${r.floor.toFixed(3)} s`;
  console.log(`  ${pad(r.label, 30)}${pad(`${r.perImage.toFixed(3)} s`, 14)}${pad(baseline, 26)}${pad(`${r.ratio.toFixed(2)}×`, 8)}${pad(`${r.cpuRatio.toFixed(2)}×`, 11)}${pad(`${r.ownMb.toFixed(0)} MiB`, 12)}${pad(`${r.treeMb.toFixed(0)} MiB`, 10)}${MiB(r.allocated)}`);
}
const [copyBound, synced] = [rows[1], rows[2]];
const rss = Math.max(...rows.map((r) => r.ownMb));
const verdict = (x) => `${x.ratio.toFixed(2)}× ${x.ratio <= TARGET_RATIO ? 'ok' : 'MISSED'} (CPU time ${x.cpuRatio.toFixed(2)}×)`;
console.log(`targets: allocated base ≤ ${TARGET_RATIO}× cp per image: ${verdict(copyBound)} (against cp + sync: ${verdict(synced)}); labgen RSS ≤ ${TARGET_RSS_MB} MB: ${(rss * 1.048576).toFixed(0)} MB ${rss * 1.048576 <= TARGET_RSS_MB ? 'ok' : 'MISSED'}`);
console.log(`(the sparse base's copy is only its metadata, ${rows[0].floor.toFixed(3)} s: there labgen's own work per image, ${((rows[0].perImage - rows[0].floor) * 1000).toFixed(0)} ms, is what shows)`);
