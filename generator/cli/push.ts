import { join } from 'node:path';
import { KnownHostsFile } from '../../drivers/base/known-hosts.js';
import { progressFor } from '../../drivers/base/progress.js';
import { type PiTarget, piTargets } from '../../drivers/push/plan.js';
import { DEFAULT_TIMING, type DriverOptions, type HostResult, pushAll, type Timing } from '../../drivers/push/push.js';
import { dryRunLines, failureLines, noteLines, pushTable } from '../../drivers/push/report.js';
import { readState, recordAddresses } from '../../drivers/push/state.js';
import { EXIT, LabgenError } from '../errors.js';
import type { FileSpec } from '../plan/file-spec.js';
import { KNOWN_HOSTS, SECRETS_DIR } from '../secrets/paths.js';
import { KNOWN_HOSTS_ENTRY } from '../secrets/store.js';
import { type LabFolder, openLabFolder } from '../lab-folder/open.js';

/** `labgen push [NODE...]`: the lab's plan, delivered to the running Pis (drivers/push/ does the work, on drivers/base/). */

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** live progress view (default: stdout is a terminal) */
  tty: boolean;
}

export interface PushCommandOptions {
  lab: string;
  dryRun?: boolean;
  concurrency?: string | number;
  trustNew?: boolean;
  /** for in-process callers (tests, benchmarks): where output goes */
  io?: Partial<Io>;
  /** for in-process callers: timeouts, e.g. a short cut-over window in tests */
  timing?: Partial<Timing>;
  /** for in-process callers: each Pi's result, before the report is printed */
  onResults?: (results: HostResult[]) => void;
}

export function ioOf(io: Partial<Io> = {}): Io {
  return {
    out: io.out ?? ((l) => process.stdout.write(`${l}\n`)),
    err: io.err ?? ((l) => process.stderr.write(`${l}\n`)),
    tty: io.tty ?? process.stdout.isTTY ?? false,
  };
}

function concurrencyOf(value: string | number | undefined): number {
  const n = Number(value ?? 16);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new LabgenError(EXIT.badInput, `--concurrency must be a whole number from 1 to 1024 (got ${JSON.stringify(value)})`);
  return n;
}

/**
 * The plan's Pi files as the lab folder holds them. Push delivers what `labgen generate` wrote,
 * so the folder must be up to date: a kept hand edit (.labgen/keep) is delivered as kept.
 */
function piFiles(p: LabFolder, nodes: string[]): FileSpec[] {
  const mine = p.decisions.filter((d) => d.spec?.kind === 'pi' && nodes.includes(d.spec.host ?? ''));
  const stale = mine.filter((d) => d.action !== 'identical' && d.action !== 'kept');
  // a Pi without a pin is fine here: push refuses it as unknown, or records it with --trust-new
  const secrets = p.secrets.missing.filter((m) => m !== KNOWN_HOSTS_ENTRY);
  if (stale.length || secrets.length) {
    const what = [...stale.map((d) => `${d.path} (${d.action})`), ...secrets.map((m) => `${SECRETS_DIR}/${m} (missing)`)];
    throw new LabgenError(EXIT.failure, `the lab folder is out of date with lab.yaml; nothing was pushed:\n${what.map((w) => `  ${w}`).join('\n')}`, {
      hint: 'run `labgen generate` first (push delivers the files it writes)',
    });
  }
  return mine.map((d) => (d.action === 'kept' && d.current !== undefined ? { ...d.spec!, contents: d.current } : d.spec!));
}

/** Everything push and status share: the lab, its Pis as targets, trust, last addresses. */
export function loadTargets(opts: { lab: string }, nodes: string[]): { labDir: string; targets: PiTarget[]; privateKey: string; knownHosts: KnownHostsFile; lastAddress: Record<string, string> } {
  const p = openLabFolder(opts.lab);
  const all = p.lab.pis.nodes.map((n) => n.name);
  const unknown = nodes.filter((n) => !all.includes(n));
  if (unknown.length)
    throw new LabgenError(EXIT.badInput, `not a Pi of this lab: ${unknown.join(', ')}`, { hint: `the lab's Pis: ${all.join(', ') || '(none)'}` });
  const chosen = nodes.length ? nodes : all;
  const targets = piTargets(p.pis, piFiles(p, chosen), p.secrets.file, chosen);
  const state = readState(p.labDir);
  return {
    labDir: p.labDir,
    targets,
    privateKey: p.secrets.secrets.sshKey.private,
    knownHosts: new KnownHostsFile(join(p.labDir, KNOWN_HOSTS)),
    lastAddress: Object.fromEntries(Object.entries(state.nodes).map(([n, s]) => [n, s.address])),
  };
}

export async function pushCommand(nodes: string[], opts: PushCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  const concurrency = concurrencyOf(opts.concurrency);
  const t = loadTargets(opts, nodes);
  if (t.targets.length === 0) {
    io.out('no Pis in this lab: nothing to push');
    return EXIT.ok;
  }
  const dryRun = opts.dryRun ?? false;
  const progress = progressFor(t.targets.map((x) => x.node), io.tty, io.out);
  const driver: DriverOptions = {
    privateKey: t.privateKey,
    knownHosts: t.knownHosts,
    lastAddress: t.lastAddress,
    trustNew: opts.trustNew ?? false,
    dryRun,
    concurrency,
    timing: { ...DEFAULT_TIMING, ...opts.timing },
    progress,
  };
  let results: HostResult[];
  try {
    results = await pushAll(t.targets, driver);
  } finally {
    await progress.end();
  }
  opts.onResults?.(results);
  if (!dryRun) recordAddresses(t.labDir, Object.fromEntries(results.filter((r) => r.record).map((r) => [r.node, r.record!])));
  report(results, dryRun, io);
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failure;
}

function report(results: HostResult[], dryRun: boolean, io: Io): void {
  io.out('');
  if (dryRun) for (const l of dryRunLines(results)) io.out(l);
  for (const l of noteLines(results)) io.out(l);
  for (const l of pushTable(results, dryRun)) io.out(l);
  const failed = results.filter((r) => !r.ok);
  const changed = results.filter((r) => r.uploaded.length || r.handlers.length).length;
  if (failed.length) {
    io.err(`labgen: push ${dryRun ? '(dry run) ' : ''}failed on ${failed.length} of ${results.length} Pi(s): ${failed.map((r) => r.node).join(', ')}`);
    for (const l of failureLines(results)) io.err(`  ${l}`);
  } else if (dryRun) io.out(`dry run: ${changed} of ${results.length} Pi(s) would change; nothing was written`);
  else io.out(`pushed: ${results.length} Pi(s), ${changed} changed`);
}
