import { chmodSync, renameSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { EXIT, LabgenError } from '../../generator/errors.js';
import type { ImageFile, ImagePlan } from '../../generator/plan/image/index.js';
import type { Runner } from '../base/runner.js';
import { type BaseImage, CMDLINE } from './base.js';
import { readBack, type RootfsFile, type StatOf, type Volume, writeRootfs } from './ext4.js';
import { type BootFile, readBootFiles, writeBoot } from './fat.js';
import type { ImageJob } from './jobs.js';
import { hostKeyProblems, type Placed, type ReadBack, readBackProblems } from './verify.js';

/**
 * One Pi's image, made from a copy of the base (`work`, a temp file beside the output): the
 * first-boot plan's files placed in its boot partition and root file system, cmdline.txt
 * rewritten, everything read back and checked, the host key against its pin. Then `work` is
 * renamed to the output: an image that is there is complete.
 */

/** Both results; when one fails, its error, once the other has ended too (neither is left running on a file about to be removed). */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

const bytes = (c: string | Uint8Array) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));

/** Boot files as written: the plan's, and cmdline.txt as the plan rewrites the base's. */
function bootFiles(files: ImageFile[], cmdline: string): BootFile[] {
  if (files.some((f) => f.path === CMDLINE)) throw new Error(`labgen bug: the image plan writes ${CMDLINE} as a file; it rewrites it through cmdline()`);
  return [...files.map((f) => ({ path: f.path, contents: bytes(f.contents) })), { path: CMDLINE, contents: Buffer.from(cmdline) }];
}

const rootfsFiles = (files: ImageFile[]): RootfsFile[] => files.map((f) => ({ path: f.path, contents: bytes(f.contents), mode: f.mode, uid: f.uid ?? 0, gid: f.gid ?? 0 }));

export interface BuildContext {
  runner: Runner;
  base: BaseImage;
  /** a 0700 temp folder for the files' contents on their way in and out of the image */
  dir: string;
  /** what exists in the base's root file system of the paths the plans place (and the folders above them) */
  existing: ReadonlyMap<string, StatOf>;
  /** does the host key pinned for this Pi equal `blob`? */
  pinned: (job: ImageJob, blob: Buffer) => boolean;
  step: (text: string) => void;
}

/**
 * `path` on disk (fsync), as writeFileAtomic does before its rename: an image that is there is
 * complete after a crash too. Not left to debugfs, which fsyncs on close: mtools writes beside
 * it and does not, and the boot partition's files could land after that fsync.
 */
async function flush(path: string): Promise<void> {
  const f = await open(path, 'r');
  try {
    await f.sync();
  } finally {
    await f.close();
  }
}

/** Edit `work` (a copy of the base) into `job`'s image, check it, and rename it to `target` (0600). */
export async function finishImage(c: BuildContext, job: ImageJob, plan: ImagePlan, work: string, target: string): Promise<void> {
  const boot: Volume = { image: work, offset: c.base.layout.boot.offset };
  const root: Volume = { image: work, offset: c.base.layout.root.offset };
  const cmdline = plan.cmdline(c.base.cmdline);
  const bootOut = bootFiles(plan.boot, cmdline);
  const rootOut = rootfsFiles(plan.rootfs);
  // the two partitions are apart in the file (mtools and debugfs each write only inside their
  // own), so each side is written, and read back, beside the other
  c.step(`writing ${bootOut.length} boot and ${rootOut.length} root file(s)`);
  await both(writeBoot(c.runner, boot, bootOut, { time: c.base.time, dir: c.dir }), writeRootfs(c.runner, root, rootOut, { time: c.base.time, dir: c.dir, existing: c.existing }));

  c.step('reading the files back');
  const placed: Placed[] = [
    ...bootOut.map((f) => ({ where: `boot:${f.path}`, contents: f.contents })),
    ...rootOut.map((f) => ({ where: f.path, contents: f.contents, mode: f.mode, uid: f.uid, gid: f.gid })),
  ];
  // the image reaches the disk while its files are read back (nothing writes it any more)
  const [[bootBack, rootBack]] = await both(
    both(readBootFiles(c.runner, boot, bootOut.map((f) => f.path), c.dir), readBack(c.runner, root, rootOut.map((f) => f.path), c.dir)),
    flush(work),
  );
  const back = new Map<string, ReadBack | undefined>();
  for (const [path, b] of bootBack) back.set(`boot:${path}`, b && { contents: b });
  for (const [path, b] of rootBack) back.set(path, b);
  const problems = [
    ...readBackProblems(placed, back),
    ...hostKeyProblems(
      placed.map((p) => ({ where: p.where, planned: p.contents, back: back.get(p.where)?.contents ?? Buffer.alloc(0) })),
      job.identity.hostKey,
      (blob) => c.pinned(job, blob),
    ),
  ];
  if (problems.length) throw new LabgenError(EXIT.failure, `${job.node}: the image is not as planned; it was not kept:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  chmodSync(work, 0o600);
  renameSync(work, target);
}

/** `2.0 GiB`, `96 MiB`: sizes as people read them. */
export function humanSize(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v >= 10 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** An image's size and the space it takes (sparse: the holes take none). */
export function sizes(path: string): { size: number; allocated: number } {
  const st = statSync(path);
  return { size: st.size, allocated: st.blocks * 512 };
}
