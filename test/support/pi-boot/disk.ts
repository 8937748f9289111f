/**
 * Reading and writing files inside a Pi disk image without loop devices or mounts: the boot
 * partition (p1, FAT) with mtools at the partition's byte offset (`IMG@@OFFSET`), the root
 * partition (p2, ext4) with debugfs (`IMG?offset=OFFSET`). Only on an image no guest is
 * running from: a guest's writes may still be in its page cache, and two writers corrupt it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, must, removeTempDir, run } from './exec.js';

export interface Partition {
  /** byte offset in the image */
  offset: number;
  /** bytes */
  size: number;
}

/** p1 (boot, FAT) and p2 (root, ext4) of an image, from its MBR (`sfdisk --json`). */
export async function partitions(image: string): Promise<{ boot: Partition; root: Partition }> {
  const json = JSON.parse(await must('sfdisk', ['--json', image])) as {
    partitiontable: { sectorsize?: number; partitions: { start: number; size: number }[] };
  };
  const table = json.partitiontable;
  const sector = table.sectorsize ?? 512;
  const [boot, root] = table.partitions.map((p) => ({ offset: p.start * sector, size: p.size * sector }));
  if (!boot || !root) throw new Error(`${image}: expected a boot and a root partition, found ${table.partitions.length}`);
  return { boot, root };
}

const fat = async (image: string) => `${image}@@${(await partitions(image)).boot.offset}`;
const ext4 = async (image: string) => `${image}?offset=${(await partitions(image)).root.offset}`;

/** A file of the boot partition (`cmdline.txt`, `config.txt`, …), as text. */
export async function readBootFile(image: string, name: string): Promise<string> {
  return must('mtype', ['-i', await fat(image), `::${name}`]);
}

/** Copy a file of the boot partition out to `dest` (binary-safe: kernels, initramfs). */
export async function copyBootFileOut(image: string, name: string, dest: string): Promise<void> {
  await must('mcopy', ['-o', '-n', '-i', await fat(image), `::${name}`, dest]);
}

/** Names in the boot partition's top folder. */
export async function bootFiles(image: string): Promise<string[]> {
  const out = await must('mdir', ['-b', '-i', await fat(image), '::']);
  return out
    .split('\n')
    .map((l) => l.trim().replace(/^::\//, ''))
    .filter(Boolean);
}

/** Write (or replace) a file of the boot partition. */
export async function writeBootFile(image: string, name: string, content: string | Buffer): Promise<void> {
  const dir = await makeTempDir('bootfile');
  try {
    const src = join(dir, 'content');
    await writeFile(src, content);
    await must('mcopy', ['-o', '-n', '-i', await fat(image), src, `::${name}`]);
  } finally {
    removeTempDir(dir);
  }
}

/** A file of the root partition, as text; throws when it is missing. */
export async function readRootFile(image: string, path: string): Promise<string> {
  const dev = await ext4(image);
  // debugfs exits 0 even when the file is missing: ask stat first, it says so on stderr
  const stat = await run('debugfs', ['-R', `stat ${path}`, dev]);
  if (/File not found/.test(stat.stderr) || stat.code !== 0) throw new Error(`${path} is not in the root partition of ${image}: ${stat.stderr.trim()}`);
  return must('debugfs', ['-R', `cat ${path}`, dev]);
}

/** Whether a path exists in the root partition. */
export async function rootFileExists(image: string, path: string): Promise<boolean> {
  const r = await run('debugfs', ['-R', `stat ${path}`, await ext4(image)]);
  return r.code === 0 && !/File not found/.test(r.stderr);
}

/**
 * Write (or replace) a text file of the root partition with an exact mode and owner; missing
 * parent folders are made (0755, root). Checked by reading it back: debugfs reports errors on
 * stderr only, mixed with its banner.
 */
export async function writeRootFile(
  image: string,
  path: string,
  content: string,
  opts: { mode?: number; uid?: number; gid?: number } = {},
): Promise<void> {
  if (!path.startsWith('/') || /\s/.test(path)) throw new Error(`writeRootFile: need an absolute path without spaces, got ${JSON.stringify(path)}`);
  const { mode = 0o644, uid = 0, gid = 0 } = opts;
  const dir = await makeTempDir('rootfile');
  try {
    const src = join(dir, 'content');
    await writeFile(src, content);
    const parts = path.split('/').filter(Boolean);
    const parents = parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
    const commands = [
      ...parents.map((p) => `mkdir ${p}`), // "already exists" for those that do: harmless
      `rm ${path}`, // "not found" for a new file: harmless
      `write ${src} ${path}`,
      `sif ${path} mode 0${(0o100000 | mode).toString(8)}`,
      `sif ${path} uid ${uid}`,
      `sif ${path} gid ${gid}`,
    ];
    const cmdFile = join(dir, 'commands');
    await writeFile(cmdFile, `${commands.join('\n')}\n`);
    await must('debugfs', ['-w', '-f', cmdFile, await ext4(image)]);
  } finally {
    removeTempDir(dir);
  }
  const back = await readRootFile(image, path);
  if (back !== content) throw new Error(`writeRootFile: ${path} in ${image} does not read back as written`);
}
