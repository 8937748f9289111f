import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { EXIT, LabgenError } from '../errors.js';
import { parseLabYaml } from '../model/load.js';
import { ask, isPromptExit } from '../wizard/ask.js';
import { INIT_FLAGS, type QuestionKey } from '../wizard/flags.js';
import { labYaml, SCHEMA_REF } from '../wizard/lab-yaml.js';
import { toLab } from '../wizard/questions.js';
import { writeFileAtomic } from '../writer/atomic.js';
import { generate } from './generate.js';

/**
 * `labgen init [DIR]`: the wizard (flags first, prompts for the rest on a terminal), then
 * DIR/lab.yaml, then `generate` writes the lab folder.
 *
 * Nothing is written until every answer is in, so Ctrl+C at a prompt leaves DIR as it was
 * (exit 130). If generate fails, what init created is removed again. An existing lab.yaml is
 * a conflict (exit 3, as generate treats a file edited by hand) unless --force; a bad or, with
 * no terminal and no --yes, missing answer is exit 2 naming the flags.
 */

export type InitOptions = Partial<Record<QuestionKey, string>> & { yes?: boolean; force?: boolean };

/** The exit code of a process ended by Ctrl+C (128 + SIGINT), which a cancelled init mirrors. */
export const EXIT_CANCELLED = 130;

const LAB_FILE = 'lab.yaml';

function refuseExisting(labDir: string, labFile: string, force?: boolean): void {
  if (existsSync(labDir) && !statSync(labDir).isDirectory())
    throw new LabgenError(EXIT.badInput, `${labDir} exists and is not a folder`, { hint: 'give init a folder for the lab' });
  if (existsSync(labFile) && !force)
    throw new LabgenError(EXIT.conflict, `${labFile} already exists; nothing was changed`, {
      hint: 'edit it and run `labgen generate`, or run `labgen init` again with --force to replace it',
    });
}

/** Every path under `dir`, relative, folders before what they hold. */
function listTree(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? join(rel, e.name) : e.name;
    return e.isDirectory() && !e.isSymbolicLink() ? [p, ...listTree(dir, p)] : [p];
  });
}

/** The outermost folder of `dir` that does not exist yet (what `mkdir -p dir` creates), if any. */
function firstMissing(dir: string): string | undefined {
  let missing: string | undefined;
  for (let d = dir; !existsSync(d); d = dirname(d)) missing = d;
  return missing;
}

/** Undoes init's writes: what it created goes, a lab.yaml it replaced (--force) comes back. */
function undoer(labDir: string, labFile: string): () => void {
  const created = firstMissing(labDir);
  const before = created ? new Set<string>() : new Set(listTree(labDir));
  const oldLab = existsSync(labFile) ? { data: readFileSync(labFile), mode: lstatSync(labFile).mode & 0o7777 } : undefined;
  return () => {
    if (created) return rmSync(created, { recursive: true, force: true });
    const added = listTree(labDir).filter((p) => !before.has(p));
    // the outermost new paths; what is under them goes with them
    for (const p of added.filter((p) => !added.includes(dirname(p)))) rmSync(join(labDir, p), { recursive: true, force: true });
    if (oldLab) writeFileAtomic(labFile, oldLab.data, oldLab.mode);
  };
}

/** Ctrl+C while the lab folder is written: remembered, acted on once the (synchronous) writes are done. */
async function holdingSignals<T>(work: () => Promise<T>): Promise<{ result: T; signal?: NodeJS.Signals }> {
  let signal: NodeJS.Signals | undefined;
  const hold = (s: NodeJS.Signals) => (signal ??= s);
  process.on('SIGINT', hold).on('SIGTERM', hold);
  try {
    const result = await work();
    // a signal that arrived during synchronous work is delivered on a later turn of the event loop
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    return { result, signal };
  } finally {
    process.off('SIGINT', hold).off('SIGTERM', hold);
  }
}

export async function initCommand(dir: string, opts: InitOptions): Promise<number> {
  const labDir = resolve(dir);
  const labFile = join(labDir, LAB_FILE);
  refuseExisting(labDir, labFile, opts.force);

  const flags = Object.fromEntries(Object.keys(INIT_FLAGS).flatMap((k) => (opts[k as QuestionKey] === undefined ? [] : [[k, opts[k as QuestionKey]]])));
  let answers;
  try {
    answers = await ask({ flags, yes: Boolean(opts.yes), interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY) });
  } catch (e) {
    if (!isPromptExit(e)) throw e;
    process.stderr.write(`labgen: init cancelled; nothing was written\n`);
    return EXIT_CANCELLED;
  }
  const text = labYaml(toLab(answers), SCHEMA_REF);
  parseLabYaml(text, labFile); // the file as generate will read it: the same rules once more

  refuseExisting(labDir, labFile, opts.force); // still true after the questions?
  const undo = undoer(labDir, labFile);
  let outcome;
  try {
    outcome = await holdingSignals(async () => {
      mkdirSync(labDir, { recursive: true });
      writeFileAtomic(labFile, text, 0o644);
      return generate({ lab: labFile });
    });
  } catch (e) {
    undo();
    throw e;
  }
  if (outcome.signal) {
    undo();
    process.stderr.write(`labgen: init cancelled (${outcome.signal}); what it wrote was removed\n`);
    return EXIT_CANCELLED;
  }
  if (outcome.result !== EXIT.ok) {
    undo();
    return outcome.result;
  }
  const shown = relative(process.cwd(), labFile);
  process.stdout.write(`wrote ${shown.startsWith('..') ? labFile : shown}: the lab; edit it, then run \`labgen generate\`\n`);
  return EXIT.ok;
}
