import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { shellQuote } from '../../generator/common/quote.js';
import type { Runner } from '../base/runner.js';

/**
 * Copies of a base image that take only the space its data takes: a Raspberry Pi OS image is
 * mostly empty, and a copy that writes its zeros out is slow and fills the disk. The bytes go
 * from program to program (xz, cp), never through labgen: its memory is flat whatever the size.
 */

/** Called as bytes are done: how many of how many. */
export type OnBytes = (done: number, total: number) => void;

/** How often a copy in another process is looked at for progress. */
const POLL_MS = 250;

/**
 * cp makes the copy itself, 0600 from the start (umask 077), so it is never readable by others
 * once secrets go in. Not into an empty file made beforehand: cp then opens it with O_TRUNC,
 * ext4 takes that for a file being replaced and starts writing it back when it is closed
 * (auto_da_alloc), and a 2 GiB copy took 1.5-1.8× as long as a copy to a new name (measured).
 */
const PRIVATE = 'umask 077 &&';

/**
 * `cp --reflink=auto --sparse=always`: a reflink where the file system shares blocks (btrfs,
 * XFS: instant, no space), else a copy that leaves holes for zeros. (Node's copyFile with
 * FICLONE falls back to a full copy that fills every hole: 8 MiB of a 2 GiB image became 2.1 GiB.)
 */
export async function copySparse(runner: Runner, src: string, dest: string, onBytes: OnBytes): Promise<void> {
  const shown = `cp --reflink=auto --sparse=always ${src} ${dest}`;
  const script = `${PRIVATE} exec cp --reflink=auto --sparse=always -- ${shellQuote(src)} ${shellQuote(dest)}`;
  await watched(runner, 'copy the base image', shown, script, dest, statSync(src).size, onBytes);
}

/** `script` run as `step`, writing `dest` (`total` bytes once done), watched as it goes. */
async function watched(runner: Runner, step: string, shown: string, script: string, dest: string, total: number, onBytes: OnBytes): Promise<void> {
  const watch = watchCopy(dest, total, onBytes);
  try {
    await runner.run(step, shown, script);
  } finally {
    await watch.stop();
  }
  onBytes(total, total);
}

/**
 * While another process writes `dest`: its progress, and its data on its way to the disk. An
 * image is flushed to disk before it is renamed into place (finishImage), and a file that a
 * copy leaves all in the page cache takes that flush after the copy, as a wait of its own: a
 * second of a 1 GiB image, and the last image's flush is paid after every copy has ended
 * (measured: a 2 GiB copy then `sync FILE` 1.5-1.65 s; with fdatasync as it went, 1.2 s). So
 * each poll also starts an fdatasync of what is written so far, one at a time: the disk takes
 * the data while the copy makes the rest. (Durability is not this: the flush before rename is.)
 */
function watchCopy(dest: string, total: number, onBytes: OnBytes): { stop: () => Promise<void> } {
  let file: Promise<FileHandle | undefined> | undefined;
  let flushing: Promise<void> | undefined;
  const poll = setInterval(() => {
    try {
      onBytes(Math.min(statSync(dest).size, total), total);
    } catch {
      return; // not there yet, or gone: the copy failed and the caller removes it
    }
    if (flushing) return;
    file ??= open(dest, 'r').catch(() => undefined);
    flushing = file
      .then((f) => f?.datasync())
      .catch(() => undefined) // a flush that fails here is only early: the one before rename reports
      .finally(() => {
        flushing = undefined;
      });
  }, POLL_MS);
  return {
    // not waiting for a flush under way: the next copy need not (the file is closed once it ends)
    stop: async () => {
      clearInterval(poll);
      void Promise.resolve(flushing).then(async () => (await file)?.close()).catch(() => undefined);
    },
  };
}

/** The uncompressed size of an .xz file, from its index (`xz --robot --list`: no decompression). */
export async function xzSize(runner: Runner, src: string): Promise<number> {
  const out = await runner.run('read the base image', `xz --robot --list ${src}`, `exec xz --robot --list -- ${shellQuote(src)}`);
  const totals = out.split('\n').find((l) => l.startsWith('totals\t'));
  const size = Number(totals?.split('\t')[4]);
  if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`labgen: xz --robot --list ${src} gave no uncompressed size`);
  return size;
}

/**
 * `xz -dc SRC > DEST`: xz decompresses on its threads (-T0, where the file has several blocks)
 * straight into the file, and leaves a hole for every run of zeros itself (it does so for a
 * regular file on its stdout), so the data never passes through labgen and the copy takes the
 * space of the data. (Through a pipe into `cp --sparse=always`, as before, the same file took
 * 1.5x as long: every byte crossed the pipe twice.) The shell makes DEST new (noclobber: never
 * an existing regular file), 0600 (PRIVATE). A run stopped by Ctrl+C or SIGTERM ends xz with the runner.
 * xz's messages in English (LC_ALL=C): the caller tells a write error from a damaged download.
 */
export async function unxzSparse(runner: Runner, src: string, dest: string, total: number, onBytes: OnBytes): Promise<void> {
  const script = `${PRIVATE} set -C && LC_ALL=C exec xz -dc -T0 -- ${shellQuote(src)} > ${shellQuote(dest)}`;
  await watched(runner, 'decompress the base image', `xz -dc ${src} > ${dest}`, script, dest, total, onBytes);
}

/** xz could not write its output (a full disk): the machine's failure, not the base's. */
export const isWriteError = (stderr: string) => /: Write error: /.test(stderr);
