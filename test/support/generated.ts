/**
 * A lab, planned and written to a fresh temp folder, for tests that hand the generated files to
 * the real programs that read them (shellcheck, vagrant, containerd, sysctl, ...).
 *
 *   const lab = await generateLab('labs/minimal/lab.yaml', { cluster: { cni: 'calico' } });
 *   // lab.dir/Vagrantfile, lab.path('provision/common.sh'), lab.files (the FileSpec list)
 *   await lab.cleanup();
 *
 * Overrides are merged into the parsed lab.yaml before validation (objects deeply, arrays and
 * scalars replaced), so a variant goes through the same schema, defaults and rules as a user's
 * file. Files are written with the plan's modes (a script is 0755, a secret 0600).
 *
 * Secrets default to a fixed fake set (no key is generated): the plan only pastes them, and a
 * fixed set keeps the output identical run to run. Pass `secrets` to use real ones.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import type { Lab } from '../../generator/model/defaults.js';
import { validateLab } from '../../generator/model/load.js';
import { type FileSpec, plan } from '../../generator/plan/index.js';
import type { Secrets } from '../../generator/secrets/store.js';
import { FIXED_SECRETS } from './fixed-secrets.js';

/** The repository root (test/support/ → ../..), so lab paths work from any cwd. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A partial lab.yaml, merged over the parsed file. */
export type LabOverrides = Record<string, unknown>;

export interface GeneratedLab {
  /** the temp folder holding the lab's files (the lab folder) */
  dir: string;
  lab: Lab;
  files: FileSpec[];
  /** absolute path of a planned file, e.g. path('Vagrantfile') */
  path(rel: string): string;
  /** the FileSpec at `rel`; throws when the plan has no such file */
  file(rel: string): FileSpec;
  /** planned files whose path matches */
  matching(re: RegExp): FileSpec[];
  /** removes the temp folder (safe to call twice) */
  cleanup(): Promise<void>;
}

export interface GenerateOptions {
  secrets?: Secrets;
  /** prefix of the temp folder's name (default labgen-gen-<lab file's folder>-) */
  prefix?: string;
}

/** The one set of fixed secrets the tests plan with. */
export { FIXED_SECRETS } from './fixed-secrets.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `over` merged into `base`: objects deeply, anything else (arrays too) replaced; a key set to undefined is removed. Pure. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else out[k] = deepMerge(base[k], v);
  }
  return out;
}

/** The lab of `labFile` (relative to the repo root or absolute) with `overrides`, validated. */
export function loadLabWith(labFile: string, overrides: LabOverrides = {}): Lab {
  const file = resolve(REPO_ROOT, labFile);
  const parsed = yaml.load(readFileSync(file, 'utf8'), { filename: file });
  return validateLab(deepMerge(parsed, overrides), file);
}

/** Writes planned files under `dir`, with their modes (chmod after write: umask does not apply). */
export async function writeFiles(dir: string, files: readonly FileSpec[]): Promise<void> {
  for (const f of files) {
    const target = join(dir, ...f.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.contents, { mode: f.mode });
    await chmod(target, f.mode);
  }
}

/**
 * The plan of `labFile` (+ overrides), in memory only: synchronous, so a test file can use it
 * while vitest collects tests (to name one test per planned file).
 */
export function planLab(
  labFile: string,
  overrides: LabOverrides = {},
  secrets: Secrets = FIXED_SECRETS,
): { lab: Lab; files: FileSpec[] } {
  const lab = loadLabWith(labFile, overrides);
  return { lab, files: plan(lab, secrets) };
}

/** Plans the lab of `labFile` (+ overrides) and writes it into a fresh temp folder. */
export async function generateLab(
  labFile: string,
  overrides: LabOverrides = {},
  opts: GenerateOptions = {},
): Promise<GeneratedLab> {
  const { lab, files } = planLab(labFile, overrides, opts.secrets);
  const prefix = opts.prefix ?? `labgen-gen-${basename(dirname(resolve(REPO_ROOT, labFile)))}-`;
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await writeFiles(dir, files);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const byPath = new Map(files.map((f) => [f.path, f]));
  return {
    dir,
    lab,
    files,
    path: (rel) => join(dir, ...rel.split('/')),
    file: (rel) => {
      const f = byPath.get(rel);
      if (!f) throw new Error(`the plan has no ${rel} (it has: ${files.map((x) => x.path).join(', ')})`);
      return f;
    },
    matching: (re) => files.filter((f) => re.test(f.path)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Memoises generateLab per (lab file, overrides) for one test file: each variant is planned
 * and written once however many tests read it. `cleanupAll` in afterAll.
 */
export function generatedLabCache(opts: GenerateOptions = {}) {
  const cache = new Map<string, Promise<GeneratedLab>>();
  return {
    get(labFile: string, overrides: LabOverrides = {}): Promise<GeneratedLab> {
      const key = `${labFile}\0${JSON.stringify(overrides)}`;
      let p = cache.get(key);
      if (!p) {
        p = generateLab(labFile, overrides, opts);
        cache.set(key, p);
      }
      return p;
    },
    async cleanupAll(): Promise<void> {
      const all = [...cache.values()];
      cache.clear();
      await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.cleanup()));
    },
  };
}
