import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EXIT, LabgenError } from '../errors.js';
import { loadLab } from '../model/load.js';
import { plan, planWarnings } from '../plan/index.js';
import { SECRETS_DIR } from '../secrets/paths.js';
import { loadSecrets } from '../secrets/store.js';
import { apply, nextManifest } from '../writer/apply.js';
import { type Decision, decide, forced } from '../writer/decide.js';
import { MANIFEST, readManifest, serializeManifest } from '../writer/manifest.js';
import { decisionLines, summary } from '../writer/report.js';

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
  const secrets = loadSecrets(labDir, lab.name);
  const manifest = readManifest(labDir);
  const raw = decide(labDir, plan(lab, secrets.secrets), manifest);
  const decisions = opts.force ? raw.map(forced) : raw;
  const manifestText = serializeManifest(nextManifest(decisions, manifest));
  const manifestStale = manifestText !== readText(join(labDir, MANIFEST));
  return { labFile, labDir, lab, secrets, manifest, decisions, manifestText, manifestStale };
}

const changes = (ds: Decision[]) => ds.filter((d) => d.action !== 'identical');

export async function generate(opts: GenerateOptions): Promise<number> {
  const tty = process.stdout.isTTY ?? false;
  const p = prepare(opts);
  for (const w of planWarnings(p.lab)) process.stderr.write(`labgen: warning: ${w}\n`);
  const pending = changes(p.decisions);
  const header = `${p.labFile}: ${summary(p.decisions)}`;

  if (opts.check) {
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
    return EXIT.ok;
  }

  const conflicts = p.decisions.filter((d) => d.action === 'conflict');
  if (conflicts.length) {
    for (const line of decisionLines(conflicts, tty)) out(line);
    throw new LabgenError(EXIT.conflict, `${conflicts.length} file(s) changed by hand; nothing was written`, {
      hint: 'see the changes with `labgen generate --dry-run`; keep them by moving them into lab.yaml, or overwrite with --force',
    });
  }

  if (p.secrets.missing.length) p.secrets.persist();
  if (pending.length === 0 && !p.manifestStale) {
    out(`up to date: ${header}`);
    return EXIT.ok;
  }
  const manifestNext = nextManifest(p.decisions, p.manifest);
  const result = withSignalsDeferred(() => apply(p.labDir, p.decisions, manifestNext));
  for (const line of decisionLines(p.decisions, tty)) out(line);
  out(`wrote ${result.written.length}, removed ${result.removed.length}: ${header}`);
  return EXIT.ok;
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
