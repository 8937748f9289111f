import { homedir } from 'node:os';
import { type AdoptResult, adoptAll, type AdoptTiming, DEFAULT_ADOPT_TIMING } from '../../drivers/adopt/adopt.js';
import { terminalAsker } from '../../drivers/adopt/ask.js';
import { ownCredentials } from '../../drivers/adopt/credentials.js';
import { loadAdoptLab } from '../../drivers/adopt/lab.js';
import { adoptTable, failureLines, noteLines } from '../../drivers/adopt/report.js';
import { PlainProgress } from '../../drivers/base/progress.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT } from '../errors.js';

/** `labgen adopt NODE...`: Pis running a stock OS made into the lab's (drivers/adopt/ does the work, on drivers/base/). */

export interface AdoptCommandOptions {
  lab: string;
  /** who logs in with the user's own credentials (default lab.pis.user) */
  user?: string;
  /** `SHA256:…`, or `NODE=SHA256:…` with several Pis */
  fingerprint?: string[];
  address?: string;
  /** for in-process callers (tests): where output goes */
  io?: Partial<Io>;
  /** for in-process callers: the home folder whose ~/.ssh keys are the user's (default: $HOME) */
  home?: string;
  /** for in-process callers: the ssh-agent socket (default: SSH_AUTH_SOCK; null: none) */
  agent?: string | null;
  /** for in-process callers: timeouts */
  timing?: Partial<AdoptTiming>;
  /** for in-process callers: each Pi's result, before the report is printed */
  onResults?: (results: AdoptResult[]) => void;
}

export async function adoptCommand(nodes: string[], opts: AdoptCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  const lab = loadAdoptLab(opts, nodes);
  const interactive = io.tty && Boolean(process.stdin.isTTY);
  const agent = opts.agent === null ? undefined : (opts.agent ?? process.env.SSH_AUTH_SOCK);
  const results = await adoptAll({
    lab,
    credentials: ownCredentials(opts.home ?? homedir(), agent),
    ask: interactive ? await terminalAsker(io.out) : undefined,
    concurrency: 16,
    timing: { ...DEFAULT_ADOPT_TIMING, ...opts.timing },
    progress: new PlainProgress(io.out), // plain lines: a live view would draw over the questions
  });
  opts.onResults?.(results);
  report(results, io);
  if (results.some((r) => r.cancelled)) return EXIT.cancelled;
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failure;
}

function report(results: AdoptResult[], io: Io): void {
  io.out('');
  for (const l of noteLines(results)) io.out(l);
  for (const l of adoptTable(results)) io.out(l);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    io.err(`labgen: adopt failed on ${failed.length} of ${results.length} Pi(s): ${failed.map((r) => r.node).join(', ')}`);
    for (const l of failureLines(results)) io.err(`  ${l}`);
  }
  const done = results.filter((r) => r.ok).map((r) => r.node);
  if (done.length) io.out(`adopted: ${done.length} Pi(s); next: labgen push ${done.join(' ')}`);
}
