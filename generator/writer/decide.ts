import { lstatSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import type { FileSpec } from '../plan/file-spec.js';
import { type Manifest, type ManifestEntry, sha256 } from './manifest.js';

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
}

interface OnDisk {
  bytes: Buffer;
  text: string;
  /** hashed only when needed: an identical file (the common case) is told by its text */
  sha: () => string;
  mode: number;
}

function readDisk(labDir: string, path: string): OnDisk | undefined {
  const file = join(labDir, path);
  const st = lstatSync(file, { throwIfNoEntry: false }); // one call where existsSync + lstat made two
  if (!st) return undefined;
  if (!st.isFile()) return { bytes: Buffer.alloc(0), text: '', sha: () => 'not a file', mode: st.mode & 0o7777 };
  const bytes = readFileSync(file);
  return { bytes, text: bytes.toString('utf8'), sha: () => sha256(bytes), mode: st.mode & 0o7777 };
}

/** Byte for byte what the plan says (cheaper than hashing both, and exact). */
const sameBytes = (disk: OnDisk, contents: string) => disk.bytes.equals(Buffer.from(contents));

/** A manifest path labgen may touch: relative, inside the lab folder, not into .labgen/. */
export function isSafePath(path: string): boolean {
  const n = normalize(path);
  return !isAbsolute(n) && !n.startsWith('..') && !n.startsWith('.labgen/') && n === path;
}

function decideFile(spec: FileSpec, disk: OnDisk | undefined, record: ManifestEntry | undefined): Decision {
  const base = { path: spec.path, spec, current: disk?.text };
  if (!disk) return { ...base, action: 'create' };
  if (sameBytes(disk, spec.contents))
    return disk.mode === spec.mode ? { ...base, action: 'identical' } : { ...base, action: 'update', reason: 'mode only' };
  if (!record) return { ...base, action: 'conflict', reason: 'exists, and labgen did not write it' };
  if (disk.sha() !== record.sha256) return { ...base, action: 'conflict', reason: 'edited by hand' };
  return { ...base, action: 'update' };
}

function decideOrphan(path: string, disk: OnDisk | undefined, record: ManifestEntry): Decision | undefined {
  if (!disk) return undefined; // already gone: it just leaves the manifest
  if (disk.sha() !== record.sha256) return { path, action: 'conflict', current: disk.text, reason: 'no longer generated, but edited by hand' };
  return { path, action: 'remove', current: disk.text };
}

export function decide(labDir: string, files: FileSpec[], manifest: Manifest): Decision[] {
  const planned = new Set(files.map((f) => f.path));
  const decisions = files.map((f) => decideFile(f, readDisk(labDir, f.path), manifest.get(f.path)));
  for (const [path, record] of manifest) {
    if (planned.has(path) || !isSafePath(path)) continue;
    const d = decideOrphan(path, readDisk(labDir, path), record);
    if (d) decisions.push(d);
  }
  return decisions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** --force (or "overwrite" at the prompt): a hand edit is overwritten, even a kept one; an edited orphan removed. */
export function forced(d: Decision): Decision {
  if (d.action !== 'conflict' && d.action !== 'kept') return d;
  return d.spec ? { ...d, action: d.current === undefined ? 'create' : 'update' } : { ...d, action: 'remove' };
}
