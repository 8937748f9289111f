import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A temp name beside the target: same folder, so rename is atomic; dot-prefixed, so it is obviously not ours to keep. */
export function tempPath(target: string, tag = 'tmp'): string {
  return join(dirname(target), `.${basename(target)}.labgen-${tag}-${process.pid}`);
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
