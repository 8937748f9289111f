import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { KEEP, MANIFEST } from '../common/layout.js';
import { machineFailure } from '../errors.js';
import { type ApplyResult, apply, type FsOps, type MetaFile, nextManifest, realFs } from '../writer/apply.js';
import type { Decision } from '../writer/decide.js';
import { nextKeep, serializeKeep } from '../writer/keep.js';
import { type Manifest, serializeManifest } from '../writer/manifest.js';
import { changes, type LabFolder, staleKept } from './open.js';

/**
 * Writing what was decided, as one transaction: labgen's own files (known_hosts, the secrets
 * this run made, lab.yaml for init, keep), the lab folder's files, the manifest; the debris of
 * an interrupted run goes once the new tree stands. A failure of the machine (disk full,
 * read-only) leaves every file as it was.
 */

/**
 * The decisions after the conflicts were settled (each answered overwrite or keep), and which
 * files were kept by an answer just given (recorded as the version the user saw: keep.ts).
 */
export interface Settled {
  decisions: Decision[];
  justKept: ReadonlySet<string>;
}

/** What a commit of these decisions writes besides their files. */
interface Writes {
  manifest: Manifest;
  meta: MetaFile[];
  /** nothing at all to write: the folder is up to date */
  none: boolean;
}

function manifestDiffers(labDir: string, manifest: Manifest): boolean {
  const file = join(labDir, MANIFEST);
  return serializeManifest(manifest) !== (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
}

/** The one answer to "what would a commit write": commitLabFolder writes it, --check asks whether it is empty. */
function writesOf(f: LabFolder, { decisions, justKept }: Settled): Writes {
  const manifest = nextManifest(decisions, f.manifest, f.secrets.names, justKept);
  const keepText = serializeKeep(nextKeep(decisions, f.keep));
  // rewritten only when the set of kept files changes (a comment added by hand survives until then)
  const keepStale = keepText !== serializeKeep(f.keep);
  const meta: MetaFile[] = [
    // init's lab.yaml goes in with the folder: a failure leaves neither (and an old lab.yaml, replaced with --force, comes back)
    // (a lab.yaml there already, edited by node add/remove, keeps its mode)
    ...(f.labText === undefined ? [] : [{ path: basename(f.labFile), contents: f.labText, ...(existsSync(f.labFile) ? { mode: statSync(f.labFile).mode & 0o7777 } : {}) }]),
    ...f.secrets.pending(),
    ...(keepStale ? [{ path: KEEP, contents: keepText }] : []),
  ];
  const none = changes(decisions).length === 0 && meta.length === 0 && f.debris.length === 0 && !manifestDiffers(f.labDir, manifest);
  return { manifest, meta, none };
}

const unsettled = (f: LabFolder): Settled => ({ decisions: f.decisions, justKept: new Set() });

/**
 * Whether `labgen generate` would change anything (`--check`'s answer). A kept file is the
 * user's now: it does not make the folder out of date, unless it misses a change (stale).
 */
export function outOfDate(f: LabFolder): boolean {
  return !writesOf(f, unsettled(f)).none || staleKept(f.decisions).length > 0;
}

/**
 * Write the settled decisions; undefined: nothing to write (the folder is up to date).
 * `ops`: the file operations (tests inject a failure); real ones by default.
 */
export async function commitLabFolder(f: LabFolder, settled: Settled = unsettled(f), ops: FsOps = realFs): Promise<ApplyResult | undefined> {
  const w = writesOf(f, settled);
  if (w.none) return undefined;
  return withSignalsDeferred(() => {
    try {
      return apply(f.labDir, settled.decisions, w.manifest, ops, { meta: w.meta, debris: f.debris, removedBefore: f.removedBefore });
    } catch (e) {
      throw machineFailure(e, `nothing was changed: every file in ${f.labDir} is as it was`) ?? e;
    }
  });
}

/**
 * Ctrl+C during the (synchronous) transaction must not leave half a lab folder: with a listener
 * installed the signal waits until the work is done, then ends the process as it would have.
 * Node hands a signal to its listeners on a later turn of the event loop, so the listener stays
 * for two turns after the work (removed at once, it would never see a signal that came during it).
 */
export async function withSignalsDeferred<T>(work: () => T): Promise<T> {
  let caught: NodeJS.Signals | undefined;
  const hold = (s: NodeJS.Signals) => (caught ??= s);
  process.on('SIGINT', hold).on('SIGTERM', hold);
  try {
    return work();
  } finally {
    // also when the work failed: a signal that came during it is still delivered
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    process.off('SIGINT', hold).off('SIGTERM', hold);
    if (caught) process.kill(process.pid, caught);
  }
}
