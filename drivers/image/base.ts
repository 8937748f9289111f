import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { PI_OS } from '../../generator/model/schema.js';
import type { PiOs } from '../../generator/plan/pi/part.js';
import type { Runner } from '../base/runner.js';
import { readText, type Volume } from './ext4.js';
import { readBootFile } from './fat.js';
import { isExtSuperblock, isFatBootSector, type PiLayout, piLayout, SECTOR, superblockWriteTime } from './mbr.js';

/**
 * The base image, looked at before anything is made: a Raspberry Pi OS image (raw, or xz as
 * raspberrypi.com ships it), its partitions from its own MBR, its release from its own
 * os-release. Everything wrong with it is bad input naming the file.
 */

export type BaseFormat = 'img' | 'xz';

/** The kernel's command line, in the boot partition. */
export const CMDLINE = 'cmdline.txt';

/** What is in the first bytes of a file, for the formats a download comes in. */
const MAGIC: { format: BaseFormat | 'gzip' | 'zstd' | 'zip' | 'bzip2'; bytes: number[] }[] = [
  { format: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { format: 'gzip', bytes: [0x1f, 0x8b] },
  { format: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { format: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { format: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
];

const bad = (file: string, problem: string, hint?: string) =>
  new LabgenError(EXIT.badInput, `--base ${file} ${problem}`, { hint: hint ?? 'give a Raspberry Pi OS image (.img, or .img.xz as downloaded from raspberrypi.com)' });

function readAt(file: string, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The base file's format (raw image or xz), or bad input: missing, not a file, another compression. */
export function baseFormat(file: string): { format: BaseFormat; size: number } {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(file, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`);
  }
  if (!st.isFile()) throw bad(file, st.isDirectory() ? 'is a folder, not an image file' : 'is not a regular file');
  const head = readAt(file, 0, 8);
  const magic = MAGIC.find((m) => m.bytes.every((b, i) => head[i] === b));
  if (magic && magic.format !== 'xz')
    throw bad(file, `is ${magic.format}-compressed`, `decompress it first (labgen reads .img and .img.xz), e.g. ${magic.format === 'zip' ? 'unzip' : magic.format === 'gzip' ? 'gunzip' : magic.format === 'zstd' ? 'unzstd' : 'bunzip2'} ${file}`);
  return { format: magic ? 'xz' : 'img', size: st.size };
}

export interface BaseImage {
  /** the raw image file looked at (the base itself, or its decompressed copy) */
  file: string;
  size: number;
  layout: PiLayout;
  release: PiOs;
  /** when its root file system was last written (s_wtime): the date of every file labgen adds */
  time: number;
  /** its boot partition's cmdline.txt (the kernel's command line), which each Pi's image rewrites */
  cmdline: string;
}

/** A Raspberry Pi OS release's codename from os-release text (VERSION_CODENAME=bookworm). */
export function codenameOf(osRelease: string): string | undefined {
  const m = /^VERSION_CODENAME=("?)([^"\n]*)\1\s*$/m.exec(osRelease);
  return m?.[2] || undefined;
}

/**
 * Partitions, file systems and release of the raw image `file` (named `shown` in messages: the
 * base the user gave). `dir`: a private temp folder for debugfs.
 */
export async function inspectImage(runner: Runner, file: string, shown: string, dir: string): Promise<BaseImage> {
  const size = statSync(file).size;
  const layout = piLayout(readAt(file, 0, SECTOR), size);
  if ('problem' in layout) throw bad(shown, layout.problem);
  if (!isFatBootSector(readAt(file, layout.boot.offset, SECTOR))) throw bad(shown, `p1 (at byte ${layout.boot.offset}) holds no FAT file system`);
  const superblock = readAt(file, layout.root.offset + 1024, 1024);
  if (!isExtSuperblock(superblock)) throw bad(shown, `p2 (at byte ${layout.root.offset}) holds no ext4 file system`);
  const root: Volume = { image: file, offset: layout.root.offset };
  // /etc/os-release is a symbolic link to ../usr/lib/os-release on Debian, which debugfs does not follow
  const text = (await readText(runner, root, '/usr/lib/os-release', dir)) ?? (await readText(runner, root, '/etc/os-release', dir));
  if (text === undefined) throw bad(shown, 'has no /usr/lib/os-release or /etc/os-release in its root file system: which release it is cannot be told');
  const codename = codenameOf(text);
  if (!codename) throw bad(shown, 'has no VERSION_CODENAME in its os-release: which release it is cannot be told');
  if (!(PI_OS as readonly string[]).includes(codename))
    throw bad(shown, `is Raspberry Pi OS ${codename}; labgen makes images of ${PI_OS.join(', ')}`);
  const cmdline = await readBootFile(runner, { image: file, offset: layout.boot.offset }, CMDLINE, dir);
  if (!cmdline) throw bad(shown, `has no ${CMDLINE} in its boot partition (p1): not a Raspberry Pi OS image?`);
  return { file, size, layout, release: codename as PiOs, time: superblockWriteTime(superblock), cmdline: cmdline.toString('utf8') };
}
