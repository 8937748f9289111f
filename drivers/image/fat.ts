import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../generator/common/quote.js';
import { CommandError, tail } from '../base/failure.js';
import type { Runner } from '../base/runner.js';
import type { Volume } from './ext4.js';

/**
 * The image's FAT boot partition, edited with mtools (`-i IMG@@OFFSET`: the partition inside
 * the image file; no root, no mount). mtools keeps the file system fsck-clean (npm's fatfs
 * corrupted FAT32 after a few writes to the root folder). Every date it writes is the image's
 * own (`mcopy -m` keeps the local file's time, set to it; SOURCE_DATE_EPOCH dates new folders),
 * so the same inputs give the same bytes.
 */

/** A file for the boot partition, at its path from the partition's root (`cmdline.txt`, `network-config`). */
export interface BootFile {
  path: string;
  contents: Buffer;
}

/** A relative path of plain names: what goes after `::/` (FAT has no modes or owners to set). */
export function checkBootPath(path: string): void {
  if (path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..') || /[\x00-\x1f"*:<>?\\|]/.test(path))
    throw new Error(`labgen bug: cannot place ${JSON.stringify(path)} in a boot partition (not a clean relative path)`);
}

const env = (time: number) => `MTOOLS_SKIP_CHECK=1 SOURCE_DATE_EPOCH=${time}`;
const drive = (v: Volume) => shellQuote(`${v.image}@@${v.offset}`);

/** One file of the boot partition, or undefined when it has none at `path`. */
export async function readBootFile(runner: Runner, v: Volume, path: string, dir: string): Promise<Buffer | undefined> {
  return (await readBootFiles(runner, v, [path], dir)).get(path);
}

/**
 * Files of the boot partition (undefined: none at that path), read in one shell: an mcopy each,
 * its exit code and stderr kept apart in `dir`, so a missing file is told from a failure.
 */
export async function readBootFiles(runner: Runner, v: Volume, paths: string[], dir: string): Promise<Map<string, Buffer | undefined>> {
  paths.forEach(checkBootPath);
  const local = (i: number, what: string) => join(dir, `boot-read-${i}${what}`);
  const lines = paths.map(
    (p, i) => `${env(0)} mcopy -n -i ${drive(v)} ${shellQuote(`::/${p}`)} ${shellQuote(local(i, ''))} 2>${shellQuote(local(i, '.err'))}; echo $? >${shellQuote(local(i, '.rc'))}`,
  );
  await runner.run('read the boot partition', `mcopy -i ${v.image}@@${v.offset} … (${paths.join(', ')})`, `${lines.join('\n')}\n`);
  return new Map(
    paths.map((p, i) => {
      const code = Number(readFileSync(local(i, '.rc'), 'utf8'));
      if (code === 0) return [p, readFileSync(local(i, ''))];
      const stderr = readFileSync(local(i, '.err'), 'utf8');
      if (/not found/i.test(stderr)) return [p, undefined];
      throw new CommandError(runner.host, `read ${p} from the boot partition`, `mcopy -i ${v.image}@@${v.offset} ::/${p}`, code, tail(stderr));
    }),
  );
}

/** The folders above each path, outermost first, once. */
const folders = (paths: string[]) => [...new Set(paths.flatMap((p) => p.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))))];

/**
 * Place `files` in the boot partition (replacing what is there), dated `time`. Their contents
 * go through `dir` (labgen's 0700 temp folder) as 0600 files. One shell for all of them.
 */
export async function writeBoot(runner: Runner, v: Volume, files: BootFile[], o: { time: number; dir: string }): Promise<void> {
  if (!files.length) return;
  files.forEach((f) => checkBootPath(f.path));
  const lines: string[] = [];
  for (const d of folders(files.map((f) => f.path)))
    lines.push(`${env(o.time)} mdir -b -i ${drive(v)} ${shellQuote(`::/${d}`)} >/dev/null 2>&1 || ${env(o.time)} mmd -i ${drive(v)} ${shellQuote(`::/${d}`)}`);
  files.forEach((f, i) => {
    const local = join(o.dir, `boot-${i}`);
    writeFileSync(local, f.contents, { mode: 0o600 });
    utimesSync(local, o.time, o.time);
    lines.push(`${env(o.time)} mcopy -o -m -i ${drive(v)} ${shellQuote(local)} ${shellQuote(`::/${f.path}`)}`);
  });
  await runner.run('write the boot partition', `mcopy -o -m -i ${v.image}@@${v.offset} … (${files.map((f) => f.path).join(', ')})`, `set -e\n${lines.join('\n')}\n`);
}
