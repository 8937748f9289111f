import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../generator/common/quote.js';
import { CommandError, tail } from '../base/failure.js';
import type { Runner } from '../base/runner.js';

/**
 * The image's ext4 root file system, edited in place with debugfs (e2fsprogs): no root, no
 * loop device, no mount. debugfs opens `IMG?offset=BYTES` (the partition inside the image file)
 * and runs a list of commands from stdin. It exits 0 even when a command fails, so its stderr is
 * read: anything there but its banner is a failure.
 *
 * Two debugfs habits shape the commands: `write` onto an existing name adds a second directory
 * entry and leaks an inode (so an existing file is `rm`ed first, and `rm` of a missing file is
 * an error, so what exists is looked up first), and new inodes get the current time unless
 * `set_current_time` says otherwise (so every time is the image's own: the same inputs give the
 * same image, byte for byte).
 */

export interface Volume {
  image: string;
  /** byte offset of the partition in the image */
  offset: number;
}

/** A file to place, at its absolute path in the root file system. */
export interface RootfsFile {
  path: string;
  contents: Buffer;
  /** permission bits (0o600, 0o644, 0o755) */
  mode: number;
  uid: number;
  gid: number;
}

/** A file as the image holds it (read back after writing). */
export interface StatOf {
  type: 'regular' | 'directory' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
}

/** `debugfs 1.47.0 (5-Feb-2023)`: printed to stderr by every run, failed or not. */
const BANNER = /^debugfs \d+\.\d+(\.\d+)?\S* \(.*\)$/;

/** The stderr lines of a debugfs run that are errors (everything but its banner). */
export function debugfsErrors(stderr: string): string[] {
  return stderr.split('\n').map((l) => l.trim()).filter((l) => l && !BANNER.test(l));
}

/**
 * debugfs -f echoes each command to stdout as `debugfs: CMD`, its output below it: the output of
 * each command, in order. (A command's errors go to stderr, without it.)
 */
export function commandOutputs(stdout: string): { command: string; output: string[] }[] {
  const out: { command: string; output: string[] }[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('debugfs: ')) out.push({ command: line.slice('debugfs: '.length).trim(), output: [] });
    else out.at(-1)?.output.push(line);
  }
  return out;
}

/** debugfs `stat`'s first lines: `Inode: 22   Type: regular    Mode:  0600 …` and `User:     0   Group:     0 …`. */
export function parseStat(lines: string[]): StatOf | undefined {
  const text = lines.join('\n');
  const t = /Type: (\S+)\s+Mode:\s+([0-7]+)/.exec(text);
  const u = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(text);
  if (!t || !u) return undefined;
  const type = t[1] === 'regular' || t[1] === 'directory' || t[1] === 'symlink' ? t[1] : 'other';
  return { type, mode: parseInt(t[2]!, 8), uid: Number(u[1]), gid: Number(u[2]) };
}

/** A path debugfs can take as one argument: absolute, clean, no blanks or quotes (its parser splits on them). */
export function checkPath(path: string): void {
  const parts = path.split('/').slice(1);
  if (!path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..') || /[\s"'\\\x00-\x1f]/.test(path))
    throw new Error(`labgen bug: cannot place ${JSON.stringify(path)} in an image (not a clean absolute path)`);
}

/** Every folder above `path`, outermost first (not `/`). */
const ancestors = (path: string) => {
  const parts = path.split('/').slice(1, -1);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
};

const target = (v: Volume) => shellQuote(`${v.image}?offset=${v.offset}`);

/** Run debugfs with `commands` (read-only unless `write`), in `cwd` (where local files are named). */
async function debugfs(runner: Runner, v: Volume, commands: string[], o: { write?: boolean; cwd: string; step: string; tolerate?: RegExp }) {
  const command = `debugfs ${o.write ? '-w ' : ''}-f - ${v.image}?offset=${v.offset}`;
  const res = await runner.exec(`cd ${shellQuote(o.cwd)} && exec debugfs ${o.write ? '-w ' : ''}-f - ${target(v)}`, { stdin: Buffer.from(`${commands.join('\n')}\n`) });
  const errors = debugfsErrors(res.stderr).filter((l) => !o.tolerate?.test(l));
  if (res.code !== 0 || errors.length) throw new CommandError(runner.host, o.step, command, res.code, tail(errors.join('\n') || res.stderr));
  return commandOutputs(res.stdout);
}

/** The text of one file in the file system, or undefined when there is no regular file at `path` (a symbolic link is not followed). */
export async function readText(runner: Runner, v: Volume, path: string, dir: string): Promise<string | undefined> {
  checkPath(path);
  if ((await statPaths(runner, v, [path], dir)).get(path)?.type !== 'regular') return undefined;
  return (await readBack(runner, v, [path], dir)).get(path)?.contents.toString('utf8');
}

/** What exists of these paths (stat of each), so writes never `rm` a missing file nor `mkdir` an existing folder. */
export async function statPaths(runner: Runner, v: Volume, paths: string[], cwd: string): Promise<Map<string, StatOf>> {
  const outputs = await debugfs(runner, v, paths.map((p) => `stat ${p}`), { cwd, step: 'look into the root file system', tolerate: /File not found by ext2_lookup/ });
  const found = new Map<string, StatOf>();
  outputs.forEach((o, i) => {
    const st = parseStat(o.output);
    if (st) found.set(paths[i]!, st);
  });
  return found;
}

/** Folders are made as on Debian: root's, 0755. */
const DIR_MODE = 0o40755;
const FILE_TYPE = 0o100000;

/** The debugfs commands that place `files`, given what exists (pure: tested on its own). */
export function writeCommands(files: RootfsFile[], existing: ReadonlyMap<string, StatOf>, localName: (i: number) => string, time: number): string[] {
  const cmds = [`set_current_time @${time}`];
  const made = new Set<string>();
  files.forEach((f, i) => {
    for (const dir of ancestors(f.path)) {
      const st = existing.get(dir);
      if (st && st.type !== 'directory')
        throw new Error(`labgen: cannot place ${f.path} in the image: ${dir} there is a ${st.type === 'symlink' ? 'symbolic link' : 'file'}, not a folder`);
      if (st || made.has(dir)) continue;
      made.add(dir);
      cmds.push(`mkdir ${dir}`, `sif ${dir} mode 0${DIR_MODE.toString(8)}`, `sif ${dir} uid 0`, `sif ${dir} gid 0`);
    }
    const st = existing.get(f.path);
    if (st?.type === 'directory') throw new Error(`labgen: cannot place ${f.path} in the image: it is a folder there`);
    if (st) cmds.push(`rm ${f.path}`);
    cmds.push(
      `write ${localName(i)} ${f.path}`,
      `sif ${f.path} mode 0${(FILE_TYPE | (f.mode & 0o7777)).toString(8)}`,
      `sif ${f.path} uid ${f.uid}`,
      `sif ${f.path} gid ${f.gid}`,
    );
  });
  return cmds;
}

/** The paths whose existence placing files at `paths` depends on: each one and every folder above it. */
export function pathsToLookUp(paths: string[]): string[] {
  paths.forEach(checkPath);
  return [...new Set(paths.flatMap((p) => [...ancestors(p), p]))];
}

/**
 * Place `files` in the root file system, every inode dated `time` (seconds since 1970), given
 * what exists of them (`statPaths` of `pathsToLookUp`: looked up once in the base, which every
 * copy equals). Their contents go through `dir` (labgen's 0700 temp folder: some are secrets),
 * as 0600 files.
 */
export async function writeRootfs(runner: Runner, v: Volume, files: RootfsFile[], o: { time: number; dir: string; existing: ReadonlyMap<string, StatOf> }): Promise<void> {
  if (!files.length) return;
  files.forEach((f) => checkPath(f.path));
  const local = (i: number) => `rootfs-${i}`;
  files.forEach((f, i) => writeFileSync(join(o.dir, local(i)), f.contents, { mode: 0o600 }));
  await debugfs(runner, v, writeCommands(files, o.existing, local, o.time), { write: true, cwd: o.dir, step: 'write the root file system' });
}

/** The files at `paths` as the image holds them now: bytes, type, mode, owner (undefined: not there). */
export async function readBack(runner: Runner, v: Volume, paths: string[], dir: string): Promise<Map<string, { contents: Buffer; stat: StatOf } | undefined>> {
  paths.forEach(checkPath);
  const local = (i: number) => `readback-${i}`;
  const outputs = await debugfs(runner, v, paths.flatMap((p, i) => [`stat ${p}`, `dump ${p} ${local(i)}`]), {
    cwd: dir,
    step: 'read the root file system back',
    tolerate: /File not found by ext2_lookup/,
  });
  return new Map(
    paths.map((p, i) => {
      const stat = parseStat(outputs[2 * i]?.output ?? []);
      if (!stat) return [p, undefined];
      return [p, { contents: stat.type === 'regular' ? readFileSync(join(dir, local(i))) : Buffer.alloc(0), stat }];
    }),
  );
}
