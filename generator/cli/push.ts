import { progressFor } from '../../drivers/base/progress.js';
import { DEFAULT_TIMING, type DriverOptions, type HostResult, pushAll, type Timing } from '../../drivers/push/push.js';
import { dryRunLines, failureLines, noteLines, pushTable } from '../../drivers/push/report.js';
import { recordAddresses } from '../../drivers/push/state.js';
import { loadTargets } from '../../drivers/push/targets.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';

/** `labgen push [NODE...]`: the lab's plan, delivered to the running Pis (drivers/push/ does the work, on drivers/base/). */

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

function concurrencyOf(value: string | number | undefined): number {
  const n = Number(value ?? 16);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new LabgenError(EXIT.badInput, `--concurrency must be a whole number from 1 to 1024 (got ${JSON.stringify(value)})`);
  return n;
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
    labAddresses: t.labAddresses,
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
