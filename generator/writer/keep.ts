import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision } from './decide.js';
import { contentSha, type Manifest } from './manifest.js';
import { KEEP } from '../common/layout.js';

/**
 * .labgen/keep: files the user chose to keep as edited by hand (answered "keep" at the conflict
 * prompt, or added a line here themselves). One path per line (relative to the lab folder),
 * sorted; blank lines and lines starting with # are ignored (labgen rewrites the file, without
 * them, only when the set of kept files changes).
 *
 * Semantics:
 * - a planned file listed here whose disk content differs from labgen's output (a conflict) is
 *   `kept`: not written, not asked about, reported as "kept (edited by hand)", and it does not
 *   make `--check` fail (you own that file now; the report still names it every run);
 * - `--force` (or "overwrite" at the prompt) still overwrites it, and the line is dropped;
 * - a line stays while its file is kept or identical to labgen's output; it is dropped when
 *   labgen writes or removes the file, or when the file is neither planned nor in the manifest.
 * The manifest keeps, for a kept file, the version of labgen's it was kept against (what labgen
 * last wrote, or what it would have written when "keep" was answered), so a kept file is still
 * told apart from labgen's output later, and one that misses a later change is `stale`.
 */

export function parseKeep(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
}

export function readKeep(labDir: string): { keep: Set<string>; text: string | undefined } {
  const file = join(labDir, KEEP);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  return { keep: parseKeep(text ?? ''), text };
}

/** The file's text for these paths (sorted, one a line), or undefined: no file when nothing is kept. */
export function serializeKeep(paths: Iterable<string>): string | undefined {
  const sorted = [...new Set(paths)].sort();
  return sorted.length ? `${sorted.join('\n')}\n` : undefined;
}

/** Why a kept file is stale, as its report says it. */
export const STALE_REASON = "edited by hand; stale: labgen's version changed since it was kept";

/**
 * A conflict over a planned file listed in keep becomes `kept`; `stale` when what labgen would
 * write is no longer what it wrote (or would have written) when the file was kept: the manifest
 * holds that version (nextManifest), so the hand edit misses a change made since. Pure.
 */
export function withKept(decisions: readonly Decision[], keep: ReadonlySet<string>, manifest: Manifest = new Map()): Decision[] {
  return decisions.map((d) => {
    if (d.action !== 'conflict' || !d.spec || !keep.has(d.path)) return d;
    const record = manifest.get(d.path);
    const stale = record !== undefined && record.sha256 !== contentSha(d.spec);
    return stale ? { ...d, action: 'kept', stale, reason: STALE_REASON } : { ...d, action: 'kept' };
  });
}

/** The keep list after these (final) decisions: kept planned files, and listed files still identical. */
export function nextKeep(decisions: readonly Decision[], keep: ReadonlySet<string>): string[] {
  return decisions.filter((d) => d.spec && (d.action === 'kept' || (d.action === 'identical' && keep.has(d.path)))).map((d) => d.path);
}
