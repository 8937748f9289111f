import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import type { Decision } from '../../generator/writer/decide.js';
import { REPO_ROOT } from '../support/generated.js';

/**
 * What `decide` would say going from a lab folder written from `before` (unedited, manifest in
 * step) to the plan `after`, without touching disk: create, identical, update, and a remove per
 * file no longer planned (an orphan has no spec, as decide makes it).
 */
export function decisionsBetween(before: FileSpec[], after: FileSpec[]): Decision[] {
  const old = new Map(before.map((f) => [f.path, f]));
  const planned = new Set(after.map((f) => f.path));
  const ds: Decision[] = after.map((spec) => {
    const was = old.get(spec.path);
    if (!was) return { path: spec.path, action: 'create', spec };
    return { path: spec.path, action: was.contents === spec.contents && was.mode === spec.mode ? 'identical' : 'update', spec, current: was.contents };
  });
  for (const f of before) if (!planned.has(f.path)) ds.push({ path: f.path, action: 'remove', current: f.contents });
  return ds.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The built CLI (`npm test` builds it first: pretest). */
export const BIN = join(REPO_ROOT, 'dist', 'bin', 'labgen.js');

export function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` (npm test does it first)`);
}

/** Runs the built labgen without a terminal; stdout, stderr and the exit code. */
export function labgen(args: string[], cwd = REPO_ROOT): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `  update    path  (reason)` lines of a generate report, as action → sorted paths. */
export function reportedActions(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of stdout.matchAll(/^ {2}(create|update|remove|conflict|kept) +(\S+)/gm)) (out[m[1]!] ??= []).push(m[2]!);
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}
