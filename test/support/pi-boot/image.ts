/**
 * Raspberry Pi OS-like base images, built from Debian for the x86 test guest and cached.
 *
 * build-rootfs.sh makes the root filesystem (mmdebstrap from the machine's Debian mirror),
 * make-image.sh the disk image (MBR, bootfs + rootfs); both are cached under
 * /var/tmp/labgen-test-cache/pi-boot (LABGEN_TEST_CACHE overrides the first part), named by a
 * hash of their recipe (the scripts and every file they copy in, the release, the mirror), so
 * a changed recipe builds anew and an unchanged one is built once, also when several test
 * files ask at once: the scripts hold a flock on `<artifact>.lock` while they build.
 *
 * Tests get a sparse copy of the cached image (`baseImage`), never the cached file itself.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, must, removeTempDir, run, sweepStaleTempDirs } from './exec.js';

export type BaseRelease = 'bookworm' | 'trixie';

const HERE = dirname(fileURLToPath(import.meta.url));
const CACHE_DIR = join(process.env.LABGEN_TEST_CACHE ?? '/var/tmp/labgen-test-cache', 'pi-boot');
/** cached artifacts nobody used for this long are removed (a changed recipe leaves the old ones) */
const PRUNE_AFTER_MS = 14 * 24 * 3600 * 1000;

/** Files under `dir`, recursively, sorted; paths relative to HERE. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(HERE, join(e.parentPath, e.name)))
    .sort();
}

/** sha256 over names, executable bits and contents of the recipe files, plus `extra`; 16 hex digits. */
function recipeHash(files: string[], extra: string[]): string {
  const h = createHash('sha256');
  for (const f of extra) h.update(`${f}\0`);
  for (const f of files) {
    const path = join(HERE, f);
    h.update(`${f}\0${statSync(path).mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(path));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The Debian mirror this machine's apt uses (the URI of its first `deb` source for the
 * `debian` archive, not debian-security): tests fetch nothing from anywhere else.
 */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) files.push(...readdirSync(dir).sort().map((f) => join(dir, f)));
  for (const file of files.filter((f) => /\.(list|sources)$/.test(f) && existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    const uris = file.endsWith('.sources')
      ? text.split(/\n\s*\n/).filter((p) => /^Types:.*\bdeb\b/m.test(p)).map((p) => /^URIs:\s*(\S+)/m.exec(p)?.[1])
      : text.split('\n').map((l) => /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(l.trim())?.[1]);
    const uri = uris.find((u) => u !== undefined && /\/debian\/?$/.test(u));
    if (uri) return uri.replace(/\/$/, '');
  }
  throw new Error('no Debian mirror in /etc/apt/sources.list{,.d}: the Pi boot tests build their images from it');
}

const seconds = (since: number) => `${Math.round((Date.now() - since) / 1000)} s`;

/** Run a build script that writes `out` (it locks and skips when another process made it). */
async function build(what: string, out: string, script: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  if (existsSync(out)) return;
  const started = Date.now();
  const r = await run('bash', [join(HERE, script), ...args, out], { env: env ?? process.env });
  if (r.code !== 0 || !existsSync(out)) {
    throw new Error(`pi-boot: building the ${what} failed (exit ${r.code}):\n${(r.stderr + r.stdout).trim().slice(-4000)}`);
  }
  // stderr, not console: vitest would frame console output; a line per build says where time went
  process.stderr.write(`pi-boot: ${what} ready in ${seconds(started)} (${out})\n`);
}

/** Mark an artifact as used (its mtime) and remove artifacts unused for two weeks. */
function touchAndPrune(keep: string): void {
  const now = new Date();
  utimesSync(keep, now, now);
  for (const name of readdirSync(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    if (path.startsWith(keep)) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > PRUNE_AFTER_MS) rmSync(path, { force: true });
    } catch {
      /* removed meanwhile */
    }
  }
}

async function rootfsTarball(release: BaseRelease): Promise<string> {
  const mirror = debianMirror();
  const files = ['build-rootfs.sh', 'customize-rootfs.sh', ...filesUnder(join(HERE, 'rootfs'))];
  const out = join(CACHE_DIR, `rootfs-${release}-${recipeHash(files, [release, mirror])}.tar`);
  await mkdir(CACHE_DIR, { recursive: true });
  await build(`${release} root filesystem`, out, 'build-rootfs.sh', [release, mirror]);
  touchAndPrune(out);
  return out;
}

async function cachedImage(release: BaseRelease): Promise<string> {
  const tarball = await rootfsTarball(release);
  const files = ['make-image.sh', ...filesUnder(join(HERE, 'bootfs'))];
  const out = join(CACHE_DIR, `${release}-${recipeHash(files, [tarball])}.img`);
  // make-image.sh unpacks the root into TMPDIR: one this process owns, so a kill leaves no debris
  const tmp = await makeTempDir('make-image');
  try {
    await build(`${release} base image`, out, 'make-image.sh', [tarball, release], { ...process.env, TMPDIR: tmp });
  } finally {
    removeTempDir(tmp);
  }
  touchAndPrune(out);
  return out;
}

/** One build per release per process, however many callers ask at once. */
const building = new Map<BaseRelease, Promise<string>>();

/**
 * A fresh, sparse copy of the Raspberry Pi OS-like base image of `release` (built and cached
 * first if need be): the caller owns it and may change it (writeBootFile, writeRootFile) and
 * boot it. It lives in a temp dir this process owns, removed at exit at the latest.
 */
export async function baseImage(release: BaseRelease): Promise<string> {
  let cached = building.get(release);
  if (!cached) {
    sweepStaleTempDirs(); // image copies of killed test processes are big
    cached = cachedImage(release);
    building.set(release, cached);
    cached.catch(() => building.delete(release)); // a failed build may be retried
  }
  const source = await cached;
  const dir = await makeTempDir(`image-${release}`);
  const copy = join(dir, `${release}.img`);
  await must('cp', ['--sparse=always', source, copy]);
  return copy;
}

/** Remove an image baseImage handed out (its temp dir with it). */
export function removeImage(image: string): void {
  removeTempDir(dirname(image));
}
