import { machineFailure } from '../errors.js';
import { basename } from 'node:path';
import { type ApplyResult, apply, type FsOps, type MetaFile, nextManifest, realFs } from '../writer/apply.js';
import type { Decision } from '../writer/decide.js';
import { nextKeep, serializeKeep } from '../writer/keep.js';
import { changes, type LabFolder, manifestDiffers } from './open.js';
import { KEEP } from '../common/layout.js';

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
/** `ops`: the file operations (tests inject a failure); real ones by default. */
export function commitLabFolder(f: LabFolder, settled: Settled = { decisions: f.decisions, justKept: new Set() }, ops: FsOps = realFs): ApplyResult | undefined {
  const { decisions, justKept } = settled;
  const manifest = nextManifest(decisions, f.manifest, f.secrets.names, justKept);
  const manifestStale = manifestDiffers(f.labDir, manifest);
  const keepText = serializeKeep(nextKeep(decisions, f.keep));
  // rewritten only when the set of kept files changes (a comment added by hand survives until then)
  const keepStale = keepText !== serializeKeep(f.keep);
  const secretFiles = f.secrets.pending();
  if (changes(decisions).length === 0 && !manifestStale && !keepStale && !secretFiles.length && !f.debris.length && f.labText === undefined) return undefined;
  const meta: MetaFile[] = [
    // init's lab.yaml goes in with the folder: a failure leaves neither (and an old lab.yaml, replaced with --force, comes back)
    ...(f.labText === undefined ? [] : [{ path: basename(f.labFile), contents: f.labText }]),
    ...secretFiles,
    ...(keepStale ? [{ path: KEEP, contents: keepText }] : []),
  ];
  return withSignalsDeferred(() => {
    try {
      return apply(f.labDir, decisions, manifest, ops, { meta, debris: f.debris });
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
