import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';
import { commitLabFolder, outOfDate } from '../lab-folder/commit.js';
import { changes, openLabFolder, type OpenOptions, staleKept } from '../lab-folder/open.js';
import { planWarnings } from '../plan/index.js';
import { eolWarning } from '../plan/support/versions.js';
import type { FsOps } from '../writer/apply.js';
import { type Decision, forced } from '../writer/decide.js';
import { impact } from '../writer/impact.js';
import { impactLines } from '../writer/impact-report.js';
import { decisionLines, summary } from '../writer/report.js';
import { ABORTED, type Answer, type Ask, resolveConflicts } from '../writer/resolve.js';
import { KEEP, SECRETS_DIR } from '../common/layout.js';

/** `labgen generate`: the lab folder opened and decided (lab-folder/), reported, settled, committed. */

export interface GenerateOptions extends OpenOptions {
  lab: string;
  dryRun?: boolean;
  check?: boolean;
  /** cluster hosts `labgen node remove` took out of the cluster already: the next steps name nothing for them */
  left?: readonly string[];
}

/** How generate talks to the user (lines, and the conflict questions); tests pass their own. */
export interface GenerateIo extends Partial<Io> {
  /** ask per conflict instead of stopping (default: stdin and stdout are both a TTY) */
  interactive?: boolean;
  /** the per-file question (default: an @inquirer/prompts select) */
  ask?: Ask;
  /** the writer's file operations (tests inject a failure) */
  ops?: FsOps;
}

/** The lines that name temp files an interrupted run left. */
function debrisLines(debris: readonly string[], verb: string): string[] {
  if (!debris.length) return [];
  return [`  ${verb} ${debris.length} temp file(s) an interrupted labgen left: ${debris.slice(0, 5).join(', ')}${debris.length > 5 ? ', …' : ''}`];
}

export async function generate(opts: GenerateOptions, io: GenerateIo = {}): Promise<number> {
  const { out, err, tty } = ioOf(io);
  const f = openLabFolder(opts.lab, opts);
  for (const w of planWarnings(f.lab)) err(`labgen: warning: ${w}`);
  for (const w of [eolWarning(f.lab.cluster.kubernetesVersion, new Date())]) if (w) err(`labgen: warning: ${w}`);
  if (opts.newSecrets && f.secrets.lost.length)
    err(
      `labgen: warning: --new-secrets: a new identity replaces ${f.secrets.lost.join(', ')}; ` +
        'every Pi must be flashed again or re-adopted, and the VMs rebuilt (vagrant destroy -f, then vagrant up) to rejoin',
    );
  const header = `${f.labFile}: ${summary(f.decisions)}`;

  if (opts.check) {
    const stale = outOfDate(f);
    out(stale ? `out of date: ${header}` : `up to date: ${header}`);
    for (const line of [...decisionLines(f.decisions, tty), ...debrisLines(f.debris, 'left behind:')]) out(line);
    return stale ? EXIT.failure : EXIT.ok;
  }

  if (opts.dryRun) {
    out(`dry run (nothing written): ${header}`);
    for (const line of [...decisionLines(f.decisions, tty), ...debrisLines(f.debris, 'would remove')]) out(line);
    if (f.secrets.missing.length) out(`  would create ${SECRETS_DIR}/: ${f.secrets.missing.join(', ')}`);
    const { unifiedDiff } = await import('../writer/diff.js');
    // a stale kept file: what overwriting it would bring
    for (const d of [...changes(f.decisions), ...staleKept(f.decisions).map(forced)]) out(unifiedDiff(d));
    for (const line of impactLines(impact(f.decisions), tty, 'what next, after `labgen generate`:')) out(line);
    const conflicts = f.decisions.filter((d) => d.action === 'conflict').length;
    if (conflicts)
      out(`${conflicts} file(s) changed by hand: \`labgen generate\` asks about each on a terminal, else stops (exit 3); --force overwrites`);
    return EXIT.ok;
  }

  let decisions = f.decisions;
  let justKept = new Set<string>();
  if (decisions.some((d) => d.action === 'conflict')) {
    decisions = await settle(decisions, io, out, tty);
    justKept = new Set(decisions.filter((d) => d.action === 'kept' && !f.keep.has(d.path)).map((d) => d.path));
  }
  const header2 = `${f.labFile}: ${summary(decisions)}`;
  const result = await commitLabFolder(f, { decisions, justKept }, io.ops);
  if (!result) {
    const stale = staleKept(decisions).length;
    out(`${stale ? `up to date, but ${stale} kept file(s) miss a change` : 'up to date'}: ${header2}`);
    for (const line of decisionLines(decisions.filter((d) => d.action === 'kept'), tty)) out(line);
    return EXIT.ok;
  }
  for (const line of [...decisionLines(decisions, tty), ...debrisLines(f.debris, 'removed')]) out(line);
  out(`wrote ${result.written.length}, removed ${result.removed.length}: ${header2}`);
  for (const left of result.leftovers) err(`labgen: warning: could not remove ${left}, left by an interrupted run; the next run tries again`);
  for (const line of impactLines(impact(decisions, new Set(opts.left)), tty)) out(line);
  return EXIT.ok;
}

/** Conflicts: without a terminal, stop (exit 3, nothing written); on one, ask per file. */
async function settle(decisions: Decision[], io: GenerateIo, out: Io['out'], tty: boolean): Promise<Decision[]> {
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
