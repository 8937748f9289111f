import * as fs from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { targetOf, tempPath } from '../common/atomic.js';
import type { OwnFile } from '../common/own-file.js';
import { EXIT, LabgenError } from '../errors.js';
import { journalHead, journalHolder } from './debris.js';
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
  /** what could not be cleaned up after the commit (an interrupted run's temp files): to warn about */
  leftovers: string[];
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

  /** link(2) failed for want of hard links once: the rest of this run moves old files aside at once */
  private noLinks = false;

  /**
   * Keep the old file (until commit) so rollback can restore it. A hard link keeps it while the
   * target still stands, so the rename over it replaces old with new in one step and the target
   * never goes missing, even under kill -9; where the file system has no hard links (FAT), the
   * old file is renamed aside instead. Returns how, and marks the undo step `swapped` once the
   * new file stands (until then a linked copy is only a second name to drop).
   */
  private keepOld(target: string, how: 'link' | 'move'): { swapped: () => void } | undefined {
    if (!fs.lstatSync(target, { throwIfNoEntry: false })) return undefined; // lstat: a dangling symlink is kept too
    const old = tempPath(target, 'old');
    this.ops.discard(old); // a dead run of the same pid (pid 1 in a container) may have left this name
    this.cleanup.push(() => this.ops.discard(old));
    if (how === 'link' && !this.noLinks) {
      try {
        this.ops.link(target, old);
        let swapped = false;
        // one step per file, so a failed rename back never goes on to delete the only old copy;
        // before the swap, undoing is dropping the second name (rename(2) between two names of one
        // file does nothing, so it could not undo this)
        this.undo.push(() => (swapped ? this.ops.rename(old, target) : this.ops.unlink(old)));
        return { swapped: () => (swapped = true) };
      } catch (e) {
        if (!NO_HARD_LINKS.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
        this.noLinks = true;
      }
    }
    this.ops.rename(target, old);
    this.undo.push(() => this.ops.rename(old, target));
    return { swapped: () => {} };
  }

  swapIn(tmp: string, target: string): void {
    const kept = this.keepOld(target, 'link');
    this.ops.rename(tmp, target);
    // a replaced file comes back from its old copy; a new one goes back to its temp name (stage's undo removes that)
    if (kept) kept.swapped();
    else this.undo.push(() => this.ops.rename(target, tmp));
  }

  remove(target: string): void {
    this.keepOld(target, 'move');
  }

  /**
   * The file that marks a transaction under way (rollback removes it; apply, once all is done).
   * One labgen writes a lab folder at a time: a journal of a live process is a refusal.
   */
  journal(path: string, removing: readonly string[]): void {
    const holder = journalHolder(path);
    if (holder !== undefined)
      throw new LabgenError(EXIT.failure, `another labgen (pid ${holder}) is writing this lab folder`, {
        hint: `wait for it to finish, then run this again (if no labgen runs, remove ${path})`,
      });
    // an interrupted run's journal is kept in what this one writes (its removals still to prune)
    // and put back on rollback, so a failure now does not hide that earlier interruption
    const before = fs.existsSync(path) ? fs.readFileSync(path, 'utf8') : undefined;
    const earlier = before?.split('\n').slice(1).filter(Boolean) ?? [];
    this.undo.push(() => (before === undefined ? this.ops.unlink(path) : this.ops.writeFile(path, before, 0o644))); // first: a write that fails half-way still leaves a file
    this.ops.writeFile(path, [journalHead(), ...new Set([...earlier, ...removing]), ''].join('\n'), 0o644);
  }

  /** Undo every step; returns the ones that failed (each restores one file on its own, so the rest still run). */
  rollback(): string[] {
    const failed: string[] = [];
    for (const step of this.undo.reverse()) {
      try {
        step();
      } catch (e) {
        failed.push((e as Error).message);
      }
    }
    return failed;
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

/** labgen's own files, in the same transaction (common/own-file.ts). */
export type MetaFile = OwnFile;

/** What apply writes beside the decisions, all in the one transaction. */
export interface ApplyExtras {
  meta?: MetaFile[];
  /** temp files an interrupted run left (debris.ts): removed once the new tree stands */
  debris?: string[];
  /** files an interrupted run removed: their folders are pruned when empty */
  removedBefore?: string[];
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
    tx.journal(journal, removals.map((d) => d.path));
    // labgen's own files first (known_hosts, the secrets, lab.yaml, keep): a run killed after
    // them reuses them, while lab files made from secrets that never landed would be taken
    // for hand edits by the next run
    for (const m of extras.meta ?? []) {
      const target = join(labDir, m.path);
      if (m.contents === undefined) tx.remove(target);
      else tx.swapIn(tx.stage(target, m.contents, m.mode ?? 0o644, m.dirMode), target);
    }
    const staged = writes.map((d) => ({ d, tmp: tx.stage(join(labDir, d.path), d.spec!.contents, d.spec!.mode) }));
    for (const { d, tmp } of staged) tx.swapIn(tmp, join(labDir, d.path));
    for (const d of removals) tx.remove(join(labDir, d.path));
    const manifestFile = join(labDir, MANIFEST);
    tx.swapIn(tx.stage(manifestFile, serializeManifest(manifest), 0o644), manifestFile);
  } catch (e) {
    const failed = tx.rollback();
    if (failed.length)
      throw new LabgenError(EXIT.failure, `${(e as Error).message}; and ${failed.length} step(s) of putting the lab folder back failed: ${failed.slice(0, 3).join('; ')}`, {
        hint: 'some files may be half-way: fix the cause, then run `labgen generate --dry-run` to see what it would change',
        cause: e,
      });
    throw e;
  }
  tx.commit();
  const removed = removals.map((d) => d.path);
  const prune = [...removed, ...(extras.removedBefore ?? [])];
  return { written: writes.map((d) => d.path), removed, leftovers: afterCommit(labDir, ops, prune, extras.debris ?? [], journal) };
}

/**
 * The new tree stands: remove an interrupted run's debris, then the folders removals (and that
 * debris) left empty, then the journal. Best effort: nothing here can undo the commit, so a
 * failure is reported as a leftover, never thrown (the journal stays, and the next run looks again).
 */
function afterCommit(labDir: string, ops: FsOps, removed: readonly string[], debris: readonly string[], journal: string): string[] {
  const leftovers: string[] = [];
  for (const path of debris.filter((p) => join(labDir, p) !== journal))
    try {
      ops.discard(join(labDir, path));
    } catch (e) {
      leftovers.push(`${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  pruneEmptyDirs(labDir, [...removed, ...debris]);
  if (!leftovers.length)
    try {
      ops.discard(journal); // last: the folder is whole
    } catch {
      leftovers.push(relative(labDir, journal));
    }
  return leftovers;
}
