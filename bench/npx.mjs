#!/usr/bin/env node
// Benchmark: what a first-time `npx labgen` costs. Packs this repository (after a build) and
// times a COLD-cache `npx --yes --package <tgz> labgen --version`: every run gets a fresh empty
// npm cache (npm_config_cache) and a fresh empty working folder, so everything labgen depends on
// is downloaded from the registry and installed, as on a machine that never ran it. After each
// run it measures the cache folder (what npx left on disk: the downloaded tarballs in _cacache
// and the installed tree in _npx).
// The named baseline, measured in the same run the same way: a one-dependency package (one bin,
// depending on `is-number` from the registry), packed in a temp folder: no npx run of a package
// with a dependency can cost less than that.
// Targets (issue 10): labgen ≤ 3 s and ≤ 10 MB. Before issue 10 (13 dependencies, ssh2's native
// parts compiled at install): 8.4 s and 86 MB seen, 14-22 s and 88 MB here on a busy machine.
//
//   node bench/npx.mjs          # BENCH_RUNS=5 runs each, the median printed
//   BENCH_SKIP_BUILD=1 ...      # pack the dist/ that is there instead of building first
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET = { seconds: 3, mb: 10 };
const work = mkdtempSync(join(tmpdir(), 'labgen-bench-npx-'));

const env = (cache) => ({
  ...process.env,
  npm_config_cache: cache,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_loglevel: 'error',
  NO_COLOR: '1',
});

/** `npm pack` of `dir` into `work`; the tarball's path. */
function pack(dir, args = []) {
  const out = execFileSync('npm', ['pack', '--json', ...args, '--pack-destination', work], { cwd: dir, encoding: 'utf8', env: env(join(work, 'pack-cache')) });
  return join(work, JSON.parse(out)[0].filename);
}

/** The baseline: one bin, one small dependency from the registry. */
function baselinePackage() {
  const dir = join(work, 'baseline');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'npx-bench-baseline', version: '1.0.0', type: 'commonjs', bin: { 'npx-bench-baseline': 'bin.js' }, dependencies: { 'is-number': '^7.0.0' } }, null, 2),
  );
  writeFileSync(join(dir, 'bin.js'), "#!/usr/bin/env node\nrequire('is-number');\nconsole.log(require('./package.json').version);\n", { mode: 0o755 });
  return pack(dir);
}

/** Bytes under `dir` (du: blocks on disk, as a user's disk sees them). */
const du = (dir) => Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024;

/**
 * One cold run of `npx --yes --package TGZ BIN --version`: wall seconds and cache bytes.
 * --prefix pins npm's project folder to the empty cwd (without it npm looks upward for a
 * package.json, and a stray one in /tmp would change what npx does).
 */
function coldRun(tgz, bin, expected, i) {
  const cache = join(work, `cache-${bin}-${i}`);
  const cwd = join(work, `cwd-${bin}-${i}`);
  mkdirSync(cache);
  mkdirSync(cwd);
  const t = performance.now();
  const r = spawnSync('npx', ['--yes', '--prefix', cwd, '--package', tgz, bin, '--version'], { cwd, encoding: 'utf8', env: env(cache) });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0 || r.stdout.trim() !== expected) throw new Error(`npx ${bin} --version: exit ${r.status}, printed ${JSON.stringify(r.stdout)}\n${r.stderr}`);
  const bytes = du(cache);
  const npxBytes = du(join(cache, '_npx'));
  const packages = readdirSync(join(cache, '_npx'))
    .map((h) => readdirSync(join(cache, '_npx', h, 'node_modules')).reduce((n, d) => n + (d.startsWith('@') ? readdirSync(join(cache, '_npx', h, 'node_modules', d)).length : d.startsWith('.') ? 0 : 1), 0))
    .reduce((a, b) => a + b, 0);
  rmSync(cache, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
  return { seconds, bytes, npxBytes, packages };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (b) => (b / 1e6).toFixed(1);
const pkgs = (n) => `${n} package${n === 1 ? '' : 's'}`;

try {
  if (!process.env.BENCH_SKIP_BUILD) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const labgenTgz = pack(ROOT, ['--ignore-scripts']); // just built: prepack would build again
  const baseTgz = baselinePackage();

  const runs = { labgen: [], baseline: [] };
  // interleaved, so a slow patch of the network weighs on both alike
  for (let i = 0; i < RUNS; i++) {
    runs.labgen.push(coldRun(labgenTgz, 'labgen', version, i));
    runs.baseline.push(coldRun(baseTgz, 'npx-bench-baseline', '1.0.0', i));
  }
  const sum = (rs) => ({
    seconds: median(rs.map((r) => r.seconds)),
    bytes: median(rs.map((r) => r.bytes)),
    npxBytes: median(rs.map((r) => r.npxBytes)),
    packages: median(rs.map((r) => r.packages)),
  });
  const l = sum(runs.labgen);
  const b = sum(runs.baseline);
  console.log(`cold-cache npx --yes --package <tgz> BIN --version, median of ${RUNS} runs (a fresh npm cache and cwd each run)`);
  console.log(`  one-dependency package (baseline): ${b.seconds.toFixed(2)} s, cache ${mb(b.bytes)} MB (installed ${mb(b.npxBytes)} MB, ${pkgs(b.packages)})`);
  console.log(`  labgen ${version}: ${l.seconds.toFixed(2)} s, cache ${mb(l.bytes)} MB (installed ${mb(l.npxBytes)} MB, ${pkgs(l.packages)})`);
  console.log(`  labgen / baseline: ${(l.seconds / b.seconds).toFixed(1)}× the time, ${(l.bytes / b.bytes).toFixed(1)}× the disk`);
  console.log(`  targets: ≤ ${TARGET.seconds} s (${l.seconds <= TARGET.seconds ? 'met' : 'MISSED'}), ≤ ${TARGET.mb} MB (${l.bytes <= TARGET.mb * 1e6 ? 'met' : 'MISSED'})`);
  console.log(`  each run, labgen: ${runs.labgen.map((r) => `${r.seconds.toFixed(2)} s/${mb(r.bytes)} MB`).join(', ')}`);
  console.log(`  each run, baseline: ${runs.baseline.map((r) => `${r.seconds.toFixed(2)} s/${mb(r.bytes)} MB`).join(', ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
