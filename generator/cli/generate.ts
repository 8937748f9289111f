import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EXIT, LabgenError } from '../errors.js';
import { loadLab } from '../model/load.js';
import { plan, planWarnings } from '../plan/index.js';
import { SECRETS_DIR } from '../secrets/paths.js';
import { loadSecrets } from '../secrets/store.js';
import { apply, nextManifest, realFs } from '../writer/apply.js';
import { type Decision, decide, forced } from '../writer/decide.js';
import { impact, impactLines } from '../writer/impact.js';
import { KEEP, nextKeep, readKeep, serializeKeep, withKept } from '../writer/keep.js';
import { MANIFEST, readManifest, serializeManifest } from '../writer/manifest.js';
import { decisionLines, summary } from '../writer/report.js';
import { ABORTED, type Answer, type Ask, resolveConflicts } from '../writer/resolve.js';

export interface GenerateOptions {
  lab: string;
  dryRun?: boolean;
  check?: boolean;
  force?: boolean;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** Everything `generate` would do, computed before anything is written. */
export function prepare(opts: GenerateOptions) {
  const labFile = resolve(opts.lab);
  const labDir = dirname(labFile);
  const lab = loadLab(labFile);
  const secrets = loadSecrets(labDir, lab.name, lab.pis.nodes); // Pis get their SSH host keys here too
  const manifest = readManifest(labDir);
  const { keep, text: keepText } = readKeep(labDir);
  const raw = withKept(decide(labDir, plan(lab, secrets.secrets), manifest), keep);
  const decisions = opts.force ? raw.map(forced) : raw;
  const manifestText = serializeManifest(nextManifest(decisions, manifest));
  const manifestStale = manifestText !== readText(join(labDir, MANIFEST));
  return { labFile, labDir, lab, secrets, manifest, keep, keepText, decisions, manifestText, manifestStale };
}

/** Files that would be written or removed, and conflicts; not identical or kept ones. */
const changes = (ds: Decision[]) => ds.filter((d) => d.action !== 'identical' && d.action !== 'kept');

/** How generate talks to the user; tests pass their own. */
export interface GenerateIo {
  /** ask per conflict instead of stopping (default: stdin and stdout are both a TTY) */
  interactive?: boolean;
  /** the per-file question (default: an @inquirer/prompts select) */
  ask?: Ask;
}

export async function generate(opts: GenerateOptions, io: GenerateIo = {}): Promise<number> {
  const tty = process.stdout.isTTY ?? false;
  const p = prepare(opts);
  for (const w of planWarnings(p.lab)) process.stderr.write(`labgen: warning: ${w}\n`);
  const pending = changes(p.decisions);
  const header = `${p.labFile}: ${summary(p.decisions)}`;

  if (opts.check) {
    // a kept file is the user's now: listed, but it does not make the folder out of date
    const stale = pending.length > 0 || p.secrets.missing.length > 0 || p.manifestStale;
    out(stale ? `out of date: ${header}` : `up to date: ${header}`);
    for (const line of decisionLines(p.decisions, tty)) out(line);
    return stale ? EXIT.failure : EXIT.ok;
  }

  if (opts.dryRun) {
    out(`dry run (nothing written): ${header}`);
    for (const line of decisionLines(p.decisions, tty)) out(line);
    if (p.secrets.missing.length) out(`  would create ${SECRETS_DIR}/: ${p.secrets.missing.join(', ')}`);
    const { unifiedDiff } = await import('../writer/diff.js');
    for (const d of pending) out(unifiedDiff(d));
    for (const line of impactLines(impact(p.decisions), tty, 'what next, after `labgen generate`:')) out(line);
    const conflicts = p.decisions.filter((d) => d.action === 'conflict').length;
    if (conflicts)
      out(`${conflicts} file(s) changed by hand: \`labgen generate\` asks about each on a terminal, else stops (exit 3); --force overwrites`);
    return EXIT.ok;
  }

  let decisions = p.decisions;
  if (decisions.some((d) => d.action === 'conflict')) decisions = await settle(decisions, io, tty);

  if (p.secrets.missing.length) p.secrets.persist();
  const manifestNext = nextManifest(decisions, p.manifest);
  const manifestStale = serializeManifest(manifestNext) !== readText(join(p.labDir, MANIFEST));
  const keepText = serializeKeep(nextKeep(decisions, p.keep));
  // rewritten only when the set of kept files changes (a comment added by hand survives until then)
  const keepStale = keepText !== serializeKeep(p.keep);
  const header2 = `${p.labFile}: ${summary(decisions)}`;
  if (changes(decisions).length === 0 && !manifestStale && !keepStale) {
    out(`up to date: ${header2}`);
    for (const line of decisionLines(decisions.filter((d) => d.action === 'kept'), tty)) out(line);
    return EXIT.ok;
  }
  const meta = keepStale ? [{ path: KEEP, contents: keepText }] : [];
  const result = withSignalsDeferred(() => apply(p.labDir, decisions, manifestNext, realFs, meta));
  for (const line of decisionLines(decisions, tty)) out(line);
  out(`wrote ${result.written.length}, removed ${result.removed.length}: ${header2}`);
  for (const line of impactLines(impact(decisions), tty)) out(line);
  return EXIT.ok;
}

/** Conflicts: without a terminal, stop (exit 3, nothing written); on one, ask per file. */
async function settle(decisions: Decision[], io: GenerateIo, tty: boolean): Promise<Decision[]> {
  const conflicts = decisions.filter((d) => d.action === 'conflict');
  const interactive = io.interactive ?? Boolean(process.stdin.isTTY && process.stdout.isTTY);
  for (const line of decisionLines(conflicts, tty)) out(line);
  if (!interactive)
    throw new LabgenError(EXIT.conflict, `${conflicts.length} file(s) changed by hand; nothing was written`, {
      hint: 'see the changes with `labgen generate --dry-run`; keep them by moving them into lab.yaml, or overwrite with --force (on a terminal, generate asks per file)',
    });
  const { unifiedDiff } = await import('../writer/diff.js');
  const settled = await resolveConflicts(decisions, io.ask ?? (await promptAsk()), (d) => out(unifiedDiff(d)));
  if (settled === ABORTED)
    throw new LabgenError(EXIT.conflict, 'aborted: nothing was written', {
      hint: 'see every change with `labgen generate --dry-run`; --force overwrites every hand edit',
    });
  return settled;
}

/** The per-file question, an @inquirer/prompts select (loaded only when there is a conflict on a TTY). */
async function promptAsk(): Promise<Ask> {
  const { select } = await import('@inquirer/prompts');
  return async (d, n, of) => {
    const planned = d.spec !== undefined;
    try {
      return await select<Answer>({
        message: `${d.path} (${d.reason ?? 'changed by hand'})${of > 1 ? ` [${n}/${of}]` : ''}`,
        default: 'keep',
        choices: [
          { name: planned ? 'overwrite' : 'remove', value: 'overwrite', description: planned ? 'replace it with the generated file' : 'it is no longer generated: delete it' },
          {
            name: 'keep',
            value: 'keep',
            description: planned ? `leave it as it is and do not ask again (remembered in ${KEEP})` : 'leave it in place; labgen stops tracking it',
          },
          { name: 'show diff', value: 'diff', description: 'what overwrite would change, then ask again' },
          { name: 'abort', value: 'abort', description: 'write nothing (exit 3)' },
        ],
      });
    } catch (e) {
      if ((e as Error)?.name === 'ExitPromptError') return 'abort'; // Ctrl+C at the prompt
      throw e;
    }
  };
}

/**
 * Ctrl+C during apply must not leave half a lab folder: with a listener installed the signal
 * waits until the (synchronous) transaction is done, then ends the process.
 */
function withSignalsDeferred<T>(work: () => T): T {
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
