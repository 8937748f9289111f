import { machineFailure } from '../errors.js';
import { type ApplyResult, apply, type MetaFile, nextManifest, realFs } from '../writer/apply.js';
import type { Decision } from '../writer/decide.js';
import { KEEP, nextKeep, serializeKeep } from '../writer/keep.js';
import { changes, type LabFolder, manifestDiffers } from './open.js';

/**
 * Writing what was decided, as one transaction: the lab folder's files, the secrets this run
 * made, .labgen/keep, the manifest; the debris of an interrupted run goes once the new tree
 * stands. A failure of the machine (disk full, read-only) leaves every file as it was.
 */

/**
 * The decisions after the conflicts were settled (each answered overwrite or keep), and which
 * files were kept by an answer just given (recorded as the version the user saw: keep.ts).
 */
export interface Settled {
  decisions: Decision[];
  justKept: ReadonlySet<string>;
}

/** undefined: nothing to write (the folder is up to date). */
export function commitLabFolder(f: LabFolder, settled: Settled = { decisions: f.decisions, justKept: new Set() }): ApplyResult | undefined {
  const { decisions, justKept } = settled;
  const manifest = nextManifest(decisions, f.manifest, f.secrets.names, justKept);
  const manifestStale = manifestDiffers(f.labDir, manifest);
  const keepText = serializeKeep(nextKeep(decisions, f.keep));
  // rewritten only when the set of kept files changes (a comment added by hand survives until then)
  const keepStale = keepText !== serializeKeep(f.keep);
  const secretFiles = f.secrets.pending();
  if (changes(decisions).length === 0 && !manifestStale && !keepStale && !secretFiles.length && !f.debris.length) return undefined;
  const meta: MetaFile[] = [...secretFiles, ...(keepStale ? [{ path: KEEP, contents: keepText }] : [])];
  return withSignalsDeferred(() => {
    try {
      return apply(f.labDir, decisions, manifest, realFs, { meta, debris: f.debris });
    } catch (e) {
      throw machineFailure(e, `nothing was changed: every file in ${f.labDir} is as it was`) ?? e;
    }
  });
}

/**
 * Ctrl+C during the (synchronous) transaction must not leave half a lab folder: with a listener
 * installed the signal waits until the work is done, then ends the process as it would have.
 */
export function withSignalsDeferred<T>(work: () => T): T {
  const caught: NodeJS.Signals[] = [];
  const hold = (s: NodeJS.Signals) => caught.push(s);
  process.on('SIGINT', hold).on('SIGTERM', hold);
  try {
    return work();
  } finally {
    process.off('SIGINT', hold).off('SIGTERM', hold);
    if (caught.length) setImmediate(() => process.kill(process.pid, caught[0]));
  }
}
