import { homedir } from 'node:os';
import { type AdoptResult, adoptAll, type AdoptTiming, type Asker, Cancelled, DEFAULT_ADOPT_TIMING } from '../../drivers/adopt/adopt.js';
import { ownCredentials } from '../../drivers/adopt/credentials.js';
import { loadAdoptLab } from '../../drivers/adopt/lab.js';
import { adoptTable, failureLines, noteLines } from '../../drivers/adopt/report.js';
import { PlainProgress } from '../../drivers/base/progress.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';

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

/** Ctrl+C at a question: 128 + SIGINT, as `labgen init` exits then (its EXIT_CANCELLED; not imported: that loads the wizard) */
const EXIT_CANCELLED = 130;

/** a login user: what Linux takes (john.doe too), never an option */
const LOGIN_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/;

/** The questions on a terminal (@inquirer/prompts, loaded only then): the key before anything is sent, passwords without echo. */
async function terminalAsker(io: Io): Promise<Asker> {
  const { confirm, password } = await import('@inquirer/prompts');
  const cancellable = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      if ((e as Error)?.name === 'ExitPromptError' || (e as Error)?.name === 'AbortPromptError') throw new Cancelled();
      throw e;
    }
  };
  return {
    confirmKey: (node, address, fp) => {
      io.out(`${node} (${address}) presents the host key ssh-ed25519 ${fp}`);
      io.out('  the lab did not make it (a stock OS makes its own on first boot). On the Pi, on its screen or a login you trust, run:');
      io.out('    ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
      return cancellable(confirm({ message: `Does it print ${fp}?`, default: false }));
    },
    password: (message) => cancellable(password({ message })),
  };
}

export async function adoptCommand(nodes: string[], opts: AdoptCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  if (opts.user !== undefined && !LOGIN_USER.test(opts.user)) throw new LabgenError(EXIT.badInput, `--user ${JSON.stringify(opts.user)} is not a user name`);
  const lab = loadAdoptLab(opts, nodes);
  const interactive = io.tty && Boolean(process.stdin.isTTY);
  const agent = opts.agent === null ? undefined : (opts.agent ?? process.env.SSH_AUTH_SOCK);
  const results = await adoptAll({
    lab,
    loginUser: opts.user,
    credentials: ownCredentials(opts.home ?? homedir(), agent),
    ask: interactive ? await terminalAsker(io) : undefined,
    concurrency: 16,
    timing: { ...DEFAULT_ADOPT_TIMING, ...opts.timing },
    progress: new PlainProgress(io.out), // plain lines: a live view would draw over the questions
  });
  opts.onResults?.(results);
  report(results, io);
  if (results.some((r) => r.cancelled)) return EXIT_CANCELLED;
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
