import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, LabgenError } from '../errors.js';
import type { FileKind } from '../plan/file-spec.js';
import { MANIFEST } from '../common/layout.js';
import { octal, sha256 } from '../common/text.js';

/**
 * .labgen/manifest.json: what labgen last wrote, {path → sha256, mode}. A file on disk that
 * matches neither this record nor the new output was edited by hand.
 */

export interface ManifestEntry {
  sha256: string;
  mode: number;
  /** what the file is (FileSpec.kind) and whose: once it is no longer planned, the impact still knows */
  kind?: FileKind;
  host?: string;
}
/**
 * `secrets`: the names of the lab's secret files (under .labgen/secrets/) when it was last
 * generated, so a lab folder carried without them is told from a new one (undefined: a manifest
 * from before labgen recorded them).
 */
export type Manifest = Map<string, ManifestEntry> & { secrets?: readonly string[] };


const specShas = new WeakMap<object, string>();

/** The sha256 of a planned file's contents, hashed once however often the writer asks. */
export function contentSha(spec: { contents: string }): string {
  let sha = specShas.get(spec);
  if (sha === undefined) specShas.set(spec, (sha = sha256(spec.contents)));
  return sha;
}

export function readManifest(labDir: string): Manifest {
  const file = join(labDir, MANIFEST);
  if (!existsSync(file)) return new Map();
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { secrets?: string[]; files: Record<string, { sha256: string; mode: string; kind?: FileKind; host?: string }> };
    const m: Manifest = new Map(
      Object.entries(doc.files).map(([p, e]) => [p, { sha256: e.sha256, mode: parseInt(e.mode, 8), ...(e.kind ? { kind: e.kind } : {}), ...(e.host ? { host: e.host } : {}) }]),
    );
    if (Array.isArray(doc.secrets)) m.secrets = doc.secrets;
    return m;
  } catch (e) {
    throw new LabgenError(EXIT.failure, `${MANIFEST} is unreadable: ${(e as Error).message}`, {
      hint: 'restore it from git, or delete it: every existing file is then treated as not written by labgen',
    });
  }
}

/** Sorted, one entry a line: stable bytes, readable diffs. */
export function serializeManifest(m: Manifest): string {
  const files = Object.fromEntries(
    [...m.keys()].sort().map((p) => {
      const e = m.get(p)!;
      return [p, { sha256: e.sha256, mode: octal(e.mode, 4), ...(e.kind ? { kind: e.kind } : {}), ...(e.host ? { host: e.host } : {}) }];
    }),
  );
  const secrets = m.secrets && [...m.secrets].sort();
  return `${JSON.stringify({ version: 1, generator: 'labgen', ...(secrets ? { secrets } : {}), files }, null, 2)}\n`;
}
