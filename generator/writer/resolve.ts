import { type Decision, forced } from './decide.js';

/**
 * Settling conflicts one file at a time (generate on a TTY asks; tests pass their own `ask`):
 * overwrite (a hand edit is replaced, an edited orphan removed), keep (left as it is: a planned
 * file is remembered in .labgen/keep, an orphan is left in place and labgen forgets it), show
 * the diff and ask again, or abort (nothing is written).
 */
export type Answer = 'overwrite' | 'keep' | 'diff' | 'abort';
export type Ask = (d: Decision, n: number, of: number) => Promise<Answer>;

export const ABORTED = Symbol('aborted');

/** The decisions with every conflict settled, or ABORTED. */
export async function resolveConflicts(
  decisions: readonly Decision[],
  ask: Ask,
  showDiff: (overwrite: Decision) => void,
): Promise<Decision[] | typeof ABORTED> {
  const total = decisions.filter((d) => d.action === 'conflict').length;
  const out: Decision[] = [];
  let n = 0;
  for (const d of decisions) {
    if (d.action !== 'conflict') {
      out.push(d);
      continue;
    }
    n++;
    for (;;) {
      const answer = await ask(d, n, total);
      if (answer === 'abort') return ABORTED;
      if (answer === 'diff') {
        showDiff(forced(d));
        continue;
      }
      out.push(answer === 'overwrite' ? forced(d) : kept(d));
      break;
    }
  }
  return out;
}

export function kept(d: Decision): Decision {
  return d.spec ? { ...d, action: 'kept' } : { ...d, action: 'kept', reason: 'no longer generated; left in place, no longer tracked' };
}
