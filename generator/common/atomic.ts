import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The name of a temp file for `name`, here and on a Pi: dot-prefixed, so it is obviously not one to keep. */
export const tempName = (name: string, tag: string, id: string | number) => `.${name}.labgen-${tag}-${id}`;

/** A temp name beside the target: same folder, so rename is atomic. */
export function tempPath(target: string, tag = 'tmp'): string {
  return join(dirname(target), tempName(basename(target), tag, process.pid));
}

/**
 * The lab folder's temp names, and nothing else (the pid is group 1): new, a file the writer
 * staged; old, one it set aside; tmp, writeFileAtomic's. How debris.ts and export tell them.
 */
export const TEMP_NAME = /^\..+\.labgen-(?:new|old|tmp)-(\d+)$/;

/** The file a temp name stands for (the name itself when it is not one of tempPath's). */
export function targetOf(path: string): string {
  const name = basename(path);
  return TEMP_NAME.test(name) ? join(dirname(path), name.slice(1).replace(/\.labgen-[a-z]+-\d+$/, '')) : path;
}

/** Write to a temp file beside the target, fsync, then rename: readers see old or new, never half. */
export function writeFileAtomic(target: string, data: string | Uint8Array, mode: number): void {
  const tmp = tempPath(target);
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, mode); // openSync's mode is masked by the umask
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
