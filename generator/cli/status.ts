import { progressFor } from '../../drivers/base/progress.js';
import { DEFAULT_TIMING, type Timing } from '../../drivers/push/push.js';
import { type StatusRow, statusAll, statusDetails, statusTable } from '../../drivers/push/status.js';
import { EXIT } from '../errors.js';
import { loadTargets } from '../../drivers/push/targets.js';
import { type Io, ioOf } from '../common/io.js';

/** `labgen status`: per Pi, reachable, host key, files in sync, services active; exit 1 if anything is off. */

export interface StatusCommandOptions {
  lab: string;
  /** for in-process callers (tests, scripts): where output goes */
  io?: Partial<Io>;
  /** for in-process callers: timeouts */
  timing?: Partial<Timing>;
}

export async function statusCommand(opts: StatusCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  const t = loadTargets(opts, []);
  if (t.targets.length === 0) {
    io.out('no Pis in this lab');
    return EXIT.ok;
  }
  const progress = progressFor(t.targets.map((x) => x.node), io.tty, io.out);
  let rows: StatusRow[];
  try {
    rows = await statusAll(t.targets, {
      privateKey: t.privateKey,
      knownHosts: t.knownHosts,
      lastAddress: t.lastAddress,
      trustNew: false,
      dryRun: true,
      concurrency: 16,
      timing: { ...DEFAULT_TIMING, ...opts.timing },
      progress,
    });
  } finally {
    await progress.end();
  }
  io.out('');
  for (const l of statusTable(rows)) io.out(l);
  const details = statusDetails(rows);
  for (const l of details) io.out(l);
  const off = rows.filter((r) => !r.ok);
  if (off.length) io.err(`labgen: ${off.length} of ${rows.length} Pi(s) not as generated: ${off.map((r) => r.node).join(', ')}`);
  return off.length ? EXIT.failure : EXIT.ok;
}
