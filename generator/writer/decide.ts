import { lstatSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import type { FileKind, FileSpec } from '../plan/file-spec.js';
import { type Manifest, type ManifestEntry } from './manifest.js';
import { sha256 } from '../common/text.js';

/**
 * What to do with each file, decided before anything is written (read-only):
 * create · identical · update · conflict (hand-edited, or not labgen's) · remove (an unmodified orphan)
 * · kept (a conflict the user chose to keep: listed in .labgen/keep, or answered "keep"; see keep.ts).
 */
export type Action = 'create' | 'identical' | 'update' | 'conflict' | 'remove' | 'kept';

export interface Decision {
  path: string;
  action: Action;
  /** the new file (absent for orphans) */
  spec?: FileSpec;
  /** what is on disk now, when there is something */
  current?: string;
  /** why, for conflicts and mode-only updates */
  reason?: string;
  /** an orphan's kind and host, as the manifest recorded them when labgen wrote it */
  was?: { kind: FileKind; host?: string };
  /** a kept file whose generated version changed since it was kept: it misses that change */
  stale?: boolean;
}

/**
 * What is on disk at a path, for one decision only: its bytes are compared, hashed when needed,
 * then dropped. Nothing of it outlives the decision (a 10,000-Pi lab folder is gigabytes: every
 * Pi's /etc/hosts lists every host), except the text of a conflict, which the prompt and the
 * diff show; any other decision reads its `current` text from disk again when asked.
 */
interface OnDisk {
  /** a regular file (anything else counts as an empty text that matches no record) */
  file: boolean;
  bytes: Buffer;
  mode: number;
}

const NOT_A_FILE = 'not a file';

function readDisk(labDir: string, path: string): OnDisk | undefined {
  const file = join(labDir, path);
  const st = lstatSync(file, { throwIfNoEntry: false }); // one call where existsSync + lstat made two
  if (!st) return undefined;
  if (!st.isFile()) return { file: false, bytes: Buffer.alloc(0), mode: st.mode & 0o7777 };
  return { file: true, bytes: readFileSync(file), mode: st.mode & 0o7777 };
}

/** hashed only when needed: an identical file (the common case) is told by its bytes */
const diskSha = (disk: OnDisk) => (disk.file ? sha256(disk.bytes) : NOT_A_FILE);

/** Byte for byte what the plan says (cheaper than hashing both, and exact). */
function sameBytes(disk: OnDisk, contents: string): boolean {
  // UTF-8 takes at least a byte per UTF-16 unit: a shorter file differs without encoding the text
  return disk.bytes.length >= contents.length && disk.bytes.equals(Buffer.from(contents));
}

/**
 * `current` of a decision: the text on disk, read when asked (labgen asks before it writes
 * anything: --dry-run's diff, push of a kept file), so a decision holds no copy of the file.
 * Enumerable, so a spread ({ ...d }) copies the text as it is then.
 */
function withCurrent<D extends Omit<Decision, 'current'>>(d: D, labDir: string, disk: OnDisk | undefined, eager: boolean): D & { current?: string } {
  if (!disk) return { ...d, current: undefined };
  if (!disk.file) return { ...d, current: '' };
  if (eager) return { ...d, current: disk.bytes.toString('utf8') };
  const file = join(labDir, d.path);
  return Object.defineProperty(d, 'current', {
    get: () => readFileSync(file, 'utf8'),
    enumerable: true,
    configurable: true,
  });
}

/** A manifest path labgen may touch: relative, inside the lab folder, not into .labgen/. */
export function isSafePath(path: string): boolean {
  const n = normalize(path);
  return !isAbsolute(n) && !n.startsWith('..') && !n.startsWith('.labgen/') && n === path;
}

function decideFile(labDir: string, spec: FileSpec, record: ManifestEntry | undefined): Decision {
  const disk = readDisk(labDir, spec.path);
  const base = { path: spec.path, spec };
  // a conflict keeps what is on disk now: it is shown (diff, prompt) and may be kept as it is
  const decided = (d: Omit<Decision, 'current'>) => withCurrent(d, labDir, disk, d.action === 'conflict');
  if (!disk) return decided({ ...base, action: 'create' });
  if (sameBytes(disk, spec.contents))
    return decided(disk.mode === spec.mode ? { ...base, action: 'identical' } : { ...base, action: 'update', reason: 'mode only' });
  if (!record) return decided({ ...base, action: 'conflict', reason: 'exists, and labgen did not write it' });
  if (diskSha(disk) !== record.sha256) return decided({ ...base, action: 'conflict', reason: 'edited by hand' });
  return decided({ ...base, action: 'update' });
}

function decideOrphan(labDir: string, path: string, record: ManifestEntry): Decision | undefined {
  const disk = readDisk(labDir, path);
  if (!disk) return undefined; // already gone: it just leaves the manifest
  const was = record.kind ? { was: { kind: record.kind, ...(record.host ? { host: record.host } : {}) } } : {};
  if (diskSha(disk) !== record.sha256) return withCurrent({ path, action: 'conflict', reason: 'no longer generated, but edited by hand', ...was }, labDir, disk, true);
  return withCurrent({ path, action: 'remove', ...was }, labDir, disk, false);
}

export function decide(labDir: string, files: FileSpec[], manifest: Manifest): Decision[] {
  const planned = new Set(files.map((f) => f.path));
  const decisions = files.map((f) => decideFile(labDir, f, manifest.get(f.path)));
  for (const [path, record] of manifest) {
    if (planned.has(path) || !isSafePath(path)) continue;
    const d = decideOrphan(labDir, path, record);
    if (d) decisions.push(d);
  }
  return decisions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** --force (or "overwrite" at the prompt): a hand edit is overwritten, even a kept one; an edited orphan removed. */
export function forced(d: Decision): Decision {
  if (d.action !== 'conflict' && d.action !== 'kept') return d;
  return d.spec ? { ...d, action: d.current === undefined ? 'create' : 'update' } : { ...d, action: 'remove' };
}
