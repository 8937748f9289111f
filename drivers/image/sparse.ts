import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { constants } from 'node:os';
import { shellQuote } from '../../generator/common/quote.js';
import { CommandError, tail } from '../base/failure.js';
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
  const total = statSync(src).size;
  const watch = watchCopy(dest, total, onBytes);
  try {
    await runner.run('copy the base image', `cp --reflink=auto --sparse=always ${src} ${dest}`, `${PRIVATE} exec cp --reflink=auto --sparse=always -- ${shellQuote(src)} ${shellQuote(dest)}`);
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
 * `xz -dc SRC | cp --sparse=always /dev/stdin DEST`: xz decompresses on its threads (-T0, where
 * the file has several blocks) straight into cp, which leaves a hole for every block of zeros,
 * so the data never passes through labgen and the copy takes the space of the data. A shell's
 * pipe, because cp opens /dev/stdin, which a socket (what Node gives a child for a pipe) refuses.
 * Both exit codes are read (a pipeline reports cp's alone, and a damaged .xz only ends cp's input
 * early): xz's comes out on fd 3. The shell leads its own process group, so `signal` (a run
 * stopped by Ctrl+C or SIGTERM) ends xz and cp with it. cp makes `dest`, 0600 (PRIVATE).
 */
export async function unxzSparse(src: string, dest: string, total: number, onBytes: OnBytes, signal?: AbortSignal): Promise<void> {
  const script = `${PRIVATE} x=$( { { xz -dc -T0 -- ${shellQuote(src)}; echo $? >&3; } | cp --sparse=always /dev/stdin ${shellQuote(dest)}; } 3>&1 ); c=$?\necho "$x $c"\n`;
  const sh = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stop = () => {
    try {
      process.kill(-sh.pid!, 'SIGTERM');
    } catch {
      // ended already
    }
  };
  signal?.addEventListener('abort', stop);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  sh.stdout.on('data', (d: Buffer) => out.push(d));
  sh.stderr.on('data', (d: Buffer) => err.push(d));
  const watch = watchCopy(dest, total, onBytes);
  const code = await new Promise<number>((resolve) => {
    sh.on('error', () => resolve(127));
    sh.on('close', (c, sig) => resolve(c ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0)));
  }).finally(async () => {
    signal?.removeEventListener('abort', stop);
    await watch.stop();
  });
  const [xz, cp] = Buffer.concat(out).toString().trim().split(' ').map(Number);
  const stderr = tail(Buffer.concat(err).toString());
  if (xz !== 0) throw new CommandError('localhost', 'decompress the base image', `xz -dc ${src}`, Number.isInteger(xz) ? xz! : code, stderr);
  if (cp !== 0 || code !== 0) throw new CommandError('localhost', 'decompress the base image', `cp --sparse=always /dev/stdin ${dest}`, cp ?? code, stderr);
  onBytes(total, total);
}
