import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { TEMP_NAME, tempPath } from '../../generator/common/atomic.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { type ImageNeed, imagePlan } from '../../generator/plan/image/index.js';
import { CommandError } from '../base/failure.js';
import { LocalRunner } from '../base/local.js';
import type { Progress } from '../base/progress.js';
import { type BaseFormat, type BaseImage, baseFormat, inspectImage } from './base.js';
import { finishImage, humanSize, sizes } from './build.js';
import { checkDevice, writeDevice } from './device.js';
import type { ImageJob, ImageJobs } from './jobs.js';
import { pathsToLookUp, type StatOf, statPaths } from './ext4.js';
import { copySparse, isWriteError, type OnBytes, unxzSparse, xzSize } from './sparse.js';
import { requireTools, type Tool } from './tools.js';
import { alive } from '../../generator/writer/debris.js';

/**
 * `labgen image`: per Pi, a copy of a Raspberry Pi OS image that boots straight into that Pi's
 * lab identity, made without root, loop devices or mounts. The base is never written: each Pi's
 * image starts as a sparse copy beside the output (a temp name), is edited, read back, checked,
 * and renamed into place; a compressed base is decompressed once, sparse, for all of them.
 * Bad input is found before any image is kept, and whatever stops a run leaves no temp file.
 */

export interface ImageOptions {
  base: string;
  /** the output folder (default: `<lab folder>/images`) */
  out?: string;
  /** a card to write the (one) image to */
  device?: string;
  /** allow a device that is not removable, or a regular file */
  force?: boolean;
}

export interface Checked {
  base: string;
  format: BaseFormat;
  /** the image's size (the base's, decompressed) */
  size: number;
  out: string;
  device?: { path: string; description: string };
}

export interface ImageResult {
  node: string;
  path: string;
  release: string;
  size: number;
  allocated: number;
  /** the card it was written to and verified on */
  device?: string;
}

const TOOLS_ALWAYS: Tool[] = ['cp', 'mcopy', 'mdir', 'mmd', 'debugfs'];

/**
 * What can be checked before anything is made: the programs, the base's format, the output
 * folder, the device (refused before it is ever opened). Bad input throws, naming what is wrong.
 */
export async function checkInputs(jobs: ImageJobs, o: ImageOptions): Promise<Checked> {
  const base = resolve(o.base);
  const { format, size: fileSize } = baseFormat(base);
  requireTools([...TOOLS_ALWAYS, ...(format === 'xz' ? (['xz'] as const) : [])]);
  const out = resolve(o.out ?? join(jobs.labDir, 'images'));
  if (existsSync(out) && !statSync(out).isDirectory()) throw new LabgenError(EXIT.badInput, `--out ${out} is a file, not a folder`);
  const targets = jobs.jobs.map((j) => join(out, `${j.node}.img`));
  if (targets.some((t) => sameFile(t, base))) throw new LabgenError(EXIT.badInput, `--base ${base} is one of the images this run makes: it would be overwritten`, { hint: 'copy the base elsewhere, or choose another --out' });
  const size = format === 'xz' ? await xzOrBad(base) : fileSize;
  if (!o.device) return { base, format, size, out };
  if ([base, ...targets].some((t) => sameFile(t, resolve(o.device!))))
    throw new LabgenError(EXIT.badInput, `--device ${o.device} is the base or an image of this run, not a card`);
  if (jobs.jobs.length !== 1)
    throw new LabgenError(EXIT.badInput, `--device writes one image: name one Pi (got ${jobs.jobs.length}: ${jobs.jobs.map((j) => j.node).join(', ')})`, {
      hint: `e.g. labgen image ${jobs.jobs[0]?.node ?? 'NODE'} --base ${o.base} --device ${o.device}`,
    });
  const device = resolve(o.device);
  const { reading, description } = checkDevice(device, size, o.force ?? false);
  if (reading.kind === 'block') requireTools(['blockdev']);
  return { base, format, size, out, device: { path: device, description } };
}

/** The same file, through any link: the same device and inode (a path that does not exist is no file). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

async function xzOrBad(base: string): Promise<number> {
  try {
    return await xzSize(new LocalRunner(), base);
  } catch (e) {
    if (e instanceof CommandError) throw new LabgenError(EXIT.badInput, `--base ${base} is not a readable .xz file: ${e.stderrTail}`, { hint: 'download it again (a truncated download?)' });
    throw e;
  }
}

// ---------------------------------------------------------------- temp files

/**
 * The temp files and folders of this run: removed when it ends, however it ends (an error, or
 * Ctrl+C / SIGTERM: the handlers remove them and exit as the signal would). A run killed outright
 * leaves them; the next run in that folder removes them (their pid is dead).
 */
class Debris {
  private readonly paths = new Set<string>();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.runner.close();
    this.clear();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  };

  constructor(private readonly runner: LocalRunner) {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, this.onSignal);
  }
  add(path: string): string {
    this.paths.add(path);
    return path;
  }
  /** no longer this run's to remove (the output folder, once an image is in it) */
  forget(path: string): void {
    this.paths.delete(path);
  }
  /** gone already (renamed into place) or removed now */
  drop(path: string): void {
    rmSync(path, { recursive: true, force: true });
    this.paths.delete(path);
  }
  clear(): void {
    for (const p of this.paths) rmSync(p, { recursive: true, force: true });
    this.paths.clear();
  }
  end(): void {
    this.clear();
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, this.onSignal);
  }
}

/** Temp files a killed `labgen image` left in the output folder (by their name; their pid is dead). */
function removeDeadTemps(out: string): void {
  for (const name of readdirSync(out)) {
    const m = TEMP_NAME.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(out, name), { recursive: true, force: true });
  }
}

/** The output folder; made 0700 with a .gitignore of everything when it is new (images hold secrets). */
function outputFolder(out: string): { made: boolean } {
  if (existsSync(out)) {
    removeDeadTemps(out);
    return { made: false };
  }
  mkdirSync(out, { recursive: true, mode: 0o700 });
  writeFileSync(join(out, '.gitignore'), '# labgen: Pi images hold the Pis\' secrets (host keys); never commit them\n*\n', { mode: 0o644 });
  return { made: true };
}

// ---------------------------------------------------------------- the run

export interface RunOptions {
  progress: Progress;
  /** a terminal: progress as it goes; otherwise a line at each quarter */
  live: boolean;
}

/** Progress of a long copy: every update on a terminal, each quarter elsewhere (logs stay short). */
function meter(p: RunOptions, node: string, label: string): OnBytes {
  let quarter = 0;
  return (done, total) => {
    const q = total ? Math.floor((4 * done) / total) : 4;
    if (!p.live && q <= quarter) return;
    quarter = q;
    p.progress.step(node, `${label} ${humanSize(done)} of ${humanSize(total)}`);
  };
}

function releaseMismatches(jobs: ImageJob[], base: BaseImage, shown: string): void {
  const wrong = jobs.filter((j) => j.os !== base.release);
  if (!wrong.length) return;
  throw new LabgenError(
    EXIT.badInput,
    `--base ${shown} is Raspberry Pi OS ${base.release}, but lab.yaml asks for another release:\n${wrong.map((j) => `  ${j.node}: ${j.osField} is ${j.os}`).join('\n')}`,
    { hint: `use a ${[...new Set(wrong.map((j) => j.os))].join(' or ')} image for ${wrong.length > 1 ? 'them' : 'it'}, or change the release in lab.yaml and run \`labgen generate\`` },
  );
}

/** What the first boot relies on in the base's root file system (cloud-init on trixie): there, or bad input. */
async function missingNeeds(runner: LocalRunner, base: BaseImage, needs: ImageNeed[], shown: string, dir: string): Promise<void> {
  const unique = [...new Map(needs.map((n) => [n.path, n])).values()];
  if (!unique.length) return;
  const found = await statPaths(runner, { image: base.file, offset: base.layout.root.offset }, unique.map((n) => n.path), dir);
  const missing = unique.filter((n) => !found.has(n.path));
  if (missing.length)
    throw new LabgenError(EXIT.badInput, `--base ${shown} lacks what the Pi's first boot needs:\n${missing.map((n) => `  ${n.path}: ${n.why}`).join('\n')}`, {
      hint: 'use a stock Raspberry Pi OS image of that release (Lite or Desktop)',
    });
}

/** Every job's image in `checked.out`, and the card written when asked. */
export async function makeImages(jobs: ImageJobs, checked: Checked, o: ImageOptions & RunOptions): Promise<ImageResult[]> {
  const runner = new LocalRunner();
  const debris = new Debris(runner);
  const first = jobs.jobs[0]!.node;
  for (const j of jobs.jobs) o.progress.start(j.node, 'waiting');
  const results: ImageResult[] = [];
  const copying: Promise<void>[] = [];
  let stopped = false;
  try {
    // a raw base is looked at where it is, a compressed one once decompressed
    const plans = new Map(jobs.jobs.map((j) => [j.node, imagePlan(j.facts, j.identity, j.files)]));
    const inspect = async (file: string) => {
      const dir = debris.add(mkdtempSync(join(tmpdir(), 'labgen-image-'))); // debugfs's copy of os-release: nothing secret
      try {
        const base = await inspectImage(runner, file, checked.base, dir);
        releaseMismatches(jobs.jobs, base, checked.base);
        await missingNeeds(runner, base, [...plans.values()].flatMap((p) => p.needs), checked.base, dir);
        // what exists of the paths the plans place, looked up once here: every copy is the same
        const paths = pathsToLookUp([...plans.values()].flatMap((p) => p.rootfs.map((f) => f.path)));
        return { base, existing: await statPaths(runner, { image: base.file, offset: base.layout.root.offset }, paths, dir) };
      } finally {
        debris.drop(dir);
      }
    };
    const lanes = copyLanes();
    // the copies run in `lanes` lanes, each copy started as the one before it in its lane ends,
    // whatever the editing does: each Pi's image is edited, read back and flushed to disk while
    // the next are copied
    const copyFor = (i: number, source: string, after: Promise<unknown>) => {
      const job = jobs.jobs[i]!;
      const target = join(checked.out, `${job.node}.img`);
      const work = debris.add(tempPath(target));
      const dir = debris.add(tempPath(join(checked.out, `${job.node}-files`)));
      mkdirSync(dir, { mode: 0o700 });
      const done = after.then(async () => {
        if (stopped) throw new Error('labgen: the run stopped before this copy');
        // the decompressed base becomes the last image (every copy from it is made by then)
        if (checked.format === 'xz' && i === jobs.jobs.length - 1) return renameSync(source, work);
        o.progress.step(job.node, 'copying the base image');
        return copySparse(runner, source, work, meter(o, job.node, 'copied'));
      });
      done.catch(() => undefined); // awaited below; a failure while a Pi before is edited is not unhandled
      copying.push(done);
      return { job, target, work, dir, done };
    };
    /** every Pi's copy from `source` (the first `started` under way already), each in its lane */
    const chain = (started: ReturnType<typeof copyFor>[], source: string) => {
      const all = [...started];
      for (let i = all.length; i < jobs.jobs.length; i++) {
        // the decompressed base is renamed to the last image only once every copy from it is made
        const last = checked.format === 'xz' && i === jobs.jobs.length - 1;
        all.push(copyFor(i, source, last ? Promise.all(all.map((c) => c.done)) : (all[i - lanes]?.done ?? Promise.resolve())));
      }
      return all;
    };
    // an output folder this run makes goes again if the run makes no image
    const output = () => {
      if (outputFolder(checked.out).made) debris.add(checked.out);
    };
    let base: BaseImage;
    let existing: ReadonlyMap<string, StatOf>;
    let copies: ReturnType<typeof copyFor>[];
    if (checked.format === 'img') {
      output();
      // the first copies start while the base is looked at (bad input found there stops them and
      // removes them): the run takes the time of its copies, not of its copies and a look first
      const first = jobs.jobs.slice(0, lanes).map((_, i) => copyFor(i, checked.base, Promise.resolve()));
      ({ base, existing } = await inspect(checked.base));
      copies = chain(first, checked.base);
    } else {
      output();
      const stage = debris.add(tempPath(join(checked.out, basename(checked.base).replace(/\.xz$/i, '')), 'new'));
      o.progress.step(first, 'decompressing the base image');
      await unxzOrBad(runner, checked.base, stage, checked.size, meter(o, first, 'decompressed'));
      ({ base, existing } = await inspect(stage));
      copies = chain([], stage);
    }
    for (const { job, target, work, dir, done } of copies) {
      await done;
      await finishImage(
        { runner, base, dir, existing, pinned: (j, blob) => jobs.knownHosts.verify({ node: j.node, address: j.facts.ip }, blob).status === 'ok', step: (t) => o.progress.step(job.node, t) },
        job,
        plans.get(job.node)!,
        work,
        target,
      );
      debris.drop(work);
      debris.drop(dir);
      debris.forget(checked.out);
      const s = sizes(target);
      results.push({ node: job.node, path: target, release: base.release, ...s });
      const shown = `${relative(process.cwd(), target) || target} (${base.release}, ${humanSize(s.size)})`;
      if (!checked.device) o.progress.done(job.node, shown);
      else {
        o.progress.step(job.node, `${shown}: writing it to ${checked.device.path}`);
        await writeDevice(runner, target, checked.device.path, o.force ?? false, { writing: meter(o, job.node, 'written'), verifying: meter(o, job.node, 'read back') });
        results.at(-1)!.device = checked.device.path;
        o.progress.done(job.node, `${shown}, written to ${checked.device.path} and verified`);
      }
    }
    return results;
  } catch (e) {
    // bad input found late (a compressed base) or a failure: nothing of this run stays but finished images
    // the view says where; the error itself is reported once, after it
    const where = e instanceof CommandError ? e.step : 'not made';
    for (const j of jobs.jobs) if (!results.some((r) => r.node === j.node)) o.progress.done(j.node, 'not made', where);
    // the copies under way (the next Pis', or the first ones while the base was looked at) are
    // stopped, and have ended before their files are removed: a cp still starting could make one again
    stopped = true;
    runner.close();
    await Promise.allSettled(copying);
    throw e;
  } finally {
    runner.close();
    debris.end();
  }
}

/**
 * How many copies run at once: two where there are two CPUs. A copy is the kernel's work on one
 * CPU (page cache to page cache), so a second one beside it nearly halves the wall time of the
 * copies (measured: 5 copies of a 1 GiB-allocated image, 0.56-0.59 s a copy two at a time
 * against 0.88-0.93 s one after the other); more than two only wait on the disk and each other.
 */
function copyLanes(): number {
  return Math.min(2, availableParallelism());
}

async function unxzOrBad(runner: LocalRunner, base: string, stage: string, total: number, onBytes: OnBytes): Promise<void> {
  try {
    await unxzSparse(runner, base, stage, total, onBytes);
  } catch (e) {
    // xz's own complaint (not a signal, not the shell's redirect) is the download's, unless it could not write
    if (e instanceof CommandError && e.code !== null && e.code < 128 && /^xz: /m.test(e.stderrTail) && !isWriteError(e.stderrTail))
      throw new LabgenError(EXIT.badInput, `--base ${base} cannot be decompressed: ${e.stderrTail}`, { hint: 'download it again (a truncated or damaged download?)' });
    throw e;
  }
}
