import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote as q } from '../../generator/common/quote.js';
import { type Failure, failureOf, commandOutcome } from '../base/failure.js';
import type { Progress } from '../base/progress.js';
import type { Runner } from '../base/runner.js';

/**
 * What the day-2 commands (node remove, reset) share: the result of one host's steps, a step
 * run into it, and reset.sh run on a host.
 */

export interface HostOutcome {
  host: string;
  /** what changed, in the order it ran */
  did: string[];
  /** a step that failed and was gone past (--force), or a step with nothing to do */
  notes: string[];
  ok: boolean;
  failure?: Failure;
}

export const outcome = (host: string): HostOutcome => ({ host, did: [], notes: [], ok: true });

/**
 * `fn` as the step `step` of `o`'s host: a failure is recorded (the host failed) and false
 * returned, unless `goOn` (--force), which keeps it as a note and goes on.
 */
export async function step(o: HostOutcome, progress: Progress, name: string, goOn: boolean, fn: () => Promise<void>): Promise<boolean> {
  progress.step(o.host, name);
  try {
    await fn();
    return true;
  } catch (e) {
    const f = failureOf(e, o.host, name);
    if (goOn) {
      o.notes.push(`${f.step} failed (${f.command ? commandOutcome(f.command, f.code) : f.message}); gone past it (--force)`);
      return true;
    }
    o.ok = false;
    o.failure = f;
    return false;
  }
}

/** The lab folder's provision/reset.sh, run as root on the host from this machine's copy (fed on stdin: nothing read from the host's lab folder). */
export async function runReset(labDir: string, r: Runner, node: string, o: HostOutcome, progress: Progress): Promise<void> {
  const script = readFileSync(join(labDir, 'provision', 'reset.sh'));
  const out = await r.run('reset.sh', `provision/reset.sh ${node}`, `bash -s -- ${q(node)}`, { stdin: script, onLine: (l) => progress.step(node, `reset.sh: ${l}`) });
  const changed = out.split('\n').find((l) => l.startsWith(`reset (${node}): changed: `));
  if (changed) o.did.push(changed.slice(`reset (${node}): changed: `.length));
  else o.notes.push('in no cluster: nothing to reset');
}
