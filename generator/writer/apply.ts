import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { targetOf, tempPath } from '../common/atomic.js';
import type { Decision } from './decide.js';
import { contentSha, type Manifest, serializeManifest } from './manifest.js';
import { JOURNAL, LABGEN_DIR, MANIFEST } from '../common/layout.js';

/**
 * Carry out decisions as one transaction. Every new file is first written to a temp file beside
 * its target; only then are targets swapped in by rename, each old file kept aside until the
 * manifest (written last) is in place. Any failure puts back exactly what was there before.
 */

/** The file operations apply uses; tests pass their own to inject a failure mid-apply. */
export interface FsOps {
  writeFile(path: string, data: string | Uint8Array, mode: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** `mode`: the folder's mode where it must not follow the umask (0700 for secrets) */
  mkdir(path: string, mode?: number): void;
  chmod(path: string, mode: number): void;
  /** a second name for a file (the old copy kept for rollback) */
  link(existing: string, path: string): void;
  rmdir(path: string): void;
  /** after commit: drop an old copy kept for rollback (best effort; the new tree already stands) */
  discard(path: string): void;
}

/** The process umask, read once (reading it means setting it, so only here). */
const UMASK = (() => {
  const m = process.umask(0o022);
  process.umask(m);
  return m;
})();

/** What link(2) says on a file system without hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

export const realFs: FsOps = {
  writeFile: (p, data, mode) => {
    try {
      fs.writeFileSync(p, data, { mode });
      if (mode & UMASK) fs.chmodSync(p, mode); // only where the umask took bits the file needs
    } catch (e) {
      // the message names the file being written (write(2)'s error has no path; the temp's name is no help)
      (e as NodeJS.ErrnoException).path = targetOf(p);
      throw e;
    }
  },
  rename: (a, b) => fs.renameSync(a, b),
  unlink: (p) => fs.rmSync(p, { force: true }),
  mkdir: (p, mode) => {
    fs.mkdirSync(p, mode === undefined ? undefined : { mode });
    if (mode !== undefined && mode & UMASK) fs.chmodSync(p, mode);
  },
  chmod: (p, mode) => fs.chmodSync(p, mode),
  link: (a, b) => fs.linkSync(a, b),
  rmdir: (p) => fs.rmdirSync(p),
  discard: (p) => fs.rmSync(p, { force: true }),
};

export interface ApplyResult {
  written: string[];
  removed: string[];
}

/**
 * The manifest after these decisions: every planned file, as it will be on disk, and the names
 * of the lab's secret files. A hand edit left in place stays recorded as labgen last wrote it (if
 * it ever did), so it is still told apart next time; a file kept by an answer just given is
 * recorded as labgen's version the user saw and kept it against (keep.ts: stale).
 */
export function nextManifest(decisions: Decision[], before: Manifest, secrets = before.secrets, justKept: ReadonlySet<string> = new Set()): Manifest {
  const next: Manifest = new Map();
  for (const d of decisions) {
    if (!d.spec) continue; // an orphan leaves the manifest (removed, or left in place and forgotten)
    const record = before.get(d.path);
    if (d.action === 'conflict') {
      if (record) next.set(d.path, record);
    } else if (d.action === 'kept' && record && !justKept.has(d.path)) next.set(d.path, record);
    else next.set(d.path, { sha256: contentSha(d.spec), mode: d.spec.mode, kind: d.spec.kind, ...(d.spec.host ? { host: d.spec.host } : {}) });
  }
  if (secrets) next.secrets = secrets;
  return next;
}

class Transaction {
  private undo: (() => void)[] = [];
  private cleanup: (() => void)[] = [];
  constructor(private readonly ops: FsOps) {}

  /** folders known to exist: most files share theirs, so each is looked up once */
  private dirs = new Set<string>();

  /**
   * mkdir -p, remembering each folder made so a rollback removes it again. `mode` is for every
   * folder this makes (the secrets' folders are 0700) and for the innermost one if it exists with
   * another mode (it gets its old mode back on rollback).
   */
  ensureDir(dir: string, mode?: number): void {
    if (this.dirs.has(dir)) return;
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!st) {
      this.ensureParents(dirname(dir), mode);
      this.ops.mkdir(dir, mode);
      this.undo.push(() => this.ops.rmdir(dir));
    } else if (mode !== undefined && (st.mode & 0o7777) !== mode) {
      this.ops.chmod(dir, mode);
      this.undo.push(() => this.ops.chmod(dir, st.mode & 0o7777));
    }
    this.dirs.add(dir);
  }

  private ensureParents(dir: string, mode?: number): void {
    if (!this.dirs.has(dir) && !fs.existsSync(dir)) this.ensureDir(dir, mode);
    else this.dirs.add(dir);
  }

  stage(target: string, contents: string | Uint8Array, mode: number, dirMode?: number): string {
    this.ensureDir(dirname(target), dirMode);
    const tmp = tempPath(target, 'new');
    this.undo.push(() => this.ops.unlink(tmp));
    this.ops.writeFile(tmp, contents, mode);
    return tmp;
  }

  /**
   * Keep the old file (until commit) so rollback can restore it. A hard link keeps it while the
   * target still stands, so the rename over it replaces old with new in one step and the target
   * never goes missing, even under kill -9; where the file system has no hard links (FAT), the
   * old file is renamed aside instead. Returns whether there was an old file.
   */
  private keepOld(target: string, how: 'link' | 'move'): 'linked' | 'moved' | undefined {
    if (!fs.existsSync(target)) return undefined;
    const old = tempPath(target, 'old');
    this.cleanup.push(() => this.ops.discard(old));
    if (how === 'link') {
      try {
        this.ops.link(target, old);
        // until the new file is renamed over the target, undoing is dropping the second name
        // (rename(2) between two names of one file does nothing, so it cannot undo this)
        this.undo.push(() => this.ops.unlink(old));
        return 'linked';
      } catch (e) {
        if (!NO_HARD_LINKS.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    }
    this.ops.rename(target, old);
    this.undo.push(() => this.ops.rename(old, target));
    return 'moved';
  }

  swapIn(tmp: string, target: string): void {
    const kept = this.keepOld(target, 'link');
    this.ops.rename(tmp, target);
    const old = tempPath(target, 'old');
    // a replaced file comes back from its old copy; a new one goes back to its temp name (stage's undo removes that)
    if (kept === 'linked') this.undo.push(() => this.ops.rename(old, target));
    else if (!kept) this.undo.push(() => this.ops.rename(target, tmp));
  }

  remove(target: string): void {
    this.keepOld(target, 'move');
  }

  /** The file that marks a transaction under way (rollback removes it; apply, once all is done). */
  journal(path: string): void {
    this.undo.push(() => this.ops.unlink(path)); // first: a write that fails half-way still leaves a file
    this.ops.writeFile(path, `${process.pid}\n`, 0o644);
  }

  rollback(): void {
    for (const step of this.undo.reverse()) {
      try {
        step();
      } catch {
        // keep undoing the rest: each step restores one file on its own
      }
    }
  }

  commit(): void {
    for (const step of this.cleanup) {
      try {
        step();
      } catch {
        // a leftover .labgen-old copy is clutter, not damage: the manifest already records the new tree
      }
    }
  }
}

/**
 * Remove the folders that removals left empty, up to (not including) the lab folder. Runs after
 * commit, so it never fails the run: a folder that is gone already (a sibling's removal took it)
 * or not empty is simply left to the next one. Deepest first, so a Pi's whole tree goes at once.
 */
function pruneEmptyDirs(labDir: string, removed: readonly string[]): void {
  const dirs = new Set<string>();
  for (const path of removed)
    for (let dir = dirname(join(labDir, path)); dir.startsWith(`${labDir}/`) && !dirs.has(dir); dir = dirname(dir)) dirs.add(dir);
  const deepestFirst = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of deepestFirst) {
    try {
      fs.rmdirSync(dir); // fails on a folder that still holds something: that one stays
    } catch {
      // ENOTEMPTY (still in use), ENOENT: nothing to do
    }
  }
}

/**
 * A file of labgen's own under .labgen/ (keep, the secrets, known_hosts), written in the same
 * transaction as the lab folder; no contents: removed.
 */
export interface MetaFile {
  path: string;
  contents?: string | Uint8Array;
  /** default 0644 */
  mode?: number;
  /** the mode of the folder that holds it, when labgen makes it (0700 for the secrets) */
  dirMode?: number;
}

/** What apply writes beside the decisions, all in the one transaction. */
export interface ApplyExtras {
  meta?: MetaFile[];
  /** temp files an interrupted run left (debris.ts): removed once the new tree stands */
  debris?: string[];
}

export function apply(labDir: string, decisions: Decision[], manifest: Manifest, ops: FsOps = realFs, extras: ApplyExtras = {}): ApplyResult {
  const tx = new Transaction(ops);
  const writes = decisions.filter((d) => d.action === 'create' || d.action === 'update');
  const removals = decisions.filter((d) => d.action === 'remove');
  const journal = join(labDir, JOURNAL);
  try {
    // .labgen/ first, as an ordinary folder (the 0700 of the secrets' folders stops below it);
    // the journal says "a transaction is under way" until it is done: a run killed outright
    // leaves it, and the next one knows to look for temp files (debris.ts)
    tx.ensureDir(join(labDir, LABGEN_DIR));
    tx.journal(journal);
    const staged = writes.map((d) => ({ d, tmp: tx.stage(join(labDir, d.path), d.spec!.contents, d.spec!.mode) }));
    for (const { d, tmp } of staged) tx.swapIn(tmp, join(labDir, d.path));
    for (const d of removals) tx.remove(join(labDir, d.path));
    for (const m of extras.meta ?? []) {
      const target = join(labDir, m.path);
      if (m.contents === undefined) tx.remove(target);
      else tx.swapIn(tx.stage(target, m.contents, m.mode ?? 0o644, m.dirMode), target);
    }
    const manifestFile = join(labDir, MANIFEST);
    tx.swapIn(tx.stage(manifestFile, serializeManifest(manifest), 0o644), manifestFile);
  } catch (e) {
    tx.rollback();
    throw e;
  }
  tx.commit();
  const removed = removals.map((d) => d.path);
  pruneEmptyDirs(labDir, removed);
  for (const path of extras.debris ?? []) ops.discard(join(labDir, path));
  ops.discard(journal); // last: the folder is whole
  return { written: writes.map((d) => d.path), removed };
}

