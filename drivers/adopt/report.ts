import { failureLines as linesOf } from '../base/failure.js';
import { table } from '../base/table.js';
import type { AdoptResult } from './adopt.js';

/** What adopt prints at the end: what each Pi did, a table, then each failure in the drivers' shape. */

export function noteLines(results: AdoptResult[]): string[] {
  return results.flatMap((r) => r.notes.map((n) => `${r.node}: ${n}`));
}

export function adoptTable(results: AdoptResult[]): string[] {
  return table(
    ['host', 'address', 'logged in as', 'host key', 'result'],
    results.map((r) => [
      r.node,
      r.address,
      r.login ?? '-',
      r.hostKey === 'lab' ? "the lab's already" : r.hostKey === 'replaced' ? "replaced by the lab's" : '-',
      r.ok ? 'adopted' : `FAILED (${r.failure?.step ?? '?'})`,
    ]),
  );
}

export function failureLines(results: AdoptResult[]): string[] {
  return results.filter((r) => !r.ok && r.failure).flatMap((r) => linesOf(r.failure!, `${r.node} (${r.address})`));
}
