import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { tempPath } from './atomic.js';
import type { Decision } from './decide.js';
import { contentSha, MANIFEST, type Manifest, serializeManifest } from './manifest.js';

/**
 * Carry out decisions as one transaction. Every new file is first written to a temp file beside
 * its target; only then are targets swapped in by rename, each old file kept aside until the
 * manifest (written last) is in place. Any failure puts back exactly what was there before.
 */

/** The file operations apply uses; tests pass their own to inject a failure mid-apply. */
export interface FsOps {
  writeFile(path: string, data: string, mode: number): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  mkdir(path: string): void;
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

export const realFs: FsOps = {
  writeFile: (p, data, mode) => {
    fs.writeFileSync(p, data, { mode });
    if (mode & UMASK) fs.chmodSync(p, mode); // only where the umask took bits the file needs
  },
  rename: (a, b) => fs.renameSync(a, b),
  unlink: (p) => fs.rmSync(p, { force: true }),
  mkdir: (p) => fs.mkdirSync(p),
  rmdir: (p) => fs.rmdirSync(p),
  discard: (p) => fs.rmSync(p, { force: true }),
};

export interface ApplyResult {
  written: string[];
  removed: string[];
}

/** The manifest after these decisions: every planned file, as it will be on disk. */
export function nextManifest(decisions: Decision[], before: Manifest): Manifest {
  const next: Manifest = new Map();
  for (const d of decisions) {
    if (!d.spec) continue; // an orphan leaves the manifest (removed, or left in place and forgotten)
    const handEdit = d.action === 'conflict' || d.action === 'kept';
    // a hand edit left in place stays recorded as labgen last wrote it (if it ever did), so it is still told apart next time
    if (!handEdit) next.set(d.path, { sha256: contentSha(d.spec), mode: d.spec.mode });
    else if (before.has(d.path)) next.set(d.path, before.get(d.path)!);
  }
  return next;
}

class Transaction {
  private undo: (() => void)[] = [];
  private cleanup: (() => void)[] = [];
  constructor(private readonly ops: FsOps) {}

  /** folders known to exist: most files share theirs, so each is looked up once */
  private dirs = new Set<string>();

  /** mkdir -p, remembering each folder made so a rollback removes it again. */
  ensureDir(dir: string): void {
    if (this.dirs.has(dir)) return;
    if (!fs.existsSync(dir)) {
      this.ensureDir(dirname(dir));
      this.ops.mkdir(dir);
      this.undo.push(() => this.ops.rmdir(dir));
    }
    this.dirs.add(dir);
  }

  stage(target: string, contents: string, mode: number): string {
    this.ensureDir(dirname(target));
    const tmp = tempPath(target, 'new');
    this.undo.push(() => this.ops.unlink(tmp));
    this.ops.writeFile(tmp, contents, mode);
    return tmp;
  }

  /** Move the old file aside (kept until commit) so rollback can restore it. */
  private setAside(target: string): void {
    if (!fs.existsSync(target)) return;
    const old = tempPath(target, 'old');
    this.ops.rename(target, old);
    this.undo.push(() => this.ops.rename(old, target));
    this.cleanup.push(() => this.ops.discard(old));
  }

  swapIn(tmp: string, target: string): void {
    this.setAside(target);
    this.ops.rename(tmp, target);
    this.undo.push(() => this.ops.rename(target, tmp));
  }

  remove(target: string): void {
    this.setAside(target);
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

/** Remove folders an orphan removal left empty, up to (not including) the lab folder. */
function pruneEmptyDirs(labDir: string, path: string): void {
  for (let dir = dirname(join(labDir, path)); dir.startsWith(`${labDir}/`); dir = dirname(dir)) {
    if (fs.readdirSync(dir).length > 0) return;
    fs.rmdirSync(dir);
  }
}

/** A file of labgen's own under .labgen/ (e.g. keep), written in the same transaction; no contents: removed. */
export interface MetaFile {
  path: string;
  contents?: string;
}

export function apply(labDir: string, decisions: Decision[], manifest: Manifest, ops: FsOps = realFs, meta: MetaFile[] = []): ApplyResult {
  const tx = new Transaction(ops);
  const writes = decisions.filter((d) => d.action === 'create' || d.action === 'update');
  const removals = decisions.filter((d) => d.action === 'remove');
  try {
    const staged = writes.map((d) => ({ d, tmp: tx.stage(join(labDir, d.path), d.spec!.contents, d.spec!.mode) }));
    for (const { d, tmp } of staged) tx.swapIn(tmp, join(labDir, d.path));
    for (const d of removals) tx.remove(join(labDir, d.path));
    for (const m of meta) {
      const target = join(labDir, m.path);
      if (m.contents === undefined) tx.remove(target);
      else tx.swapIn(tx.stage(target, m.contents, 0o644), target);
    }
    const manifestFile = join(labDir, MANIFEST);
    tx.ensureDir(dirname(manifestFile));
    tx.swapIn(tx.stage(manifestFile, serializeManifest(manifest), 0o644), manifestFile);
  } catch (e) {
    tx.rollback();
    throw e;
  }
  tx.commit();
  for (const d of removals) pruneEmptyDirs(labDir, d.path);
  return { written: writes.map((d) => d.path), removed: removals.map((d) => d.path) };
}

