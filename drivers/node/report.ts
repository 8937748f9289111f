import { failureLines } from '../base/failure.js';
import { table } from '../base/table.js';
import type { HostOutcome } from './steps.js';

/** What `labgen node remove` and `labgen reset` print at the end: a line per host; the failures, each with its step and tail, on stderr. */
export function hostsReport(results: readonly HostOutcome[]): { out: string[]; err: string[] } {
  const rows = results.map((o) => [o.host, [...o.did, ...o.notes].join('; ') || '-', o.ok ? 'ok' : `FAILED (${o.failure?.step ?? '?'})`]);
  const err = results.flatMap((o) => (o.failure ? failureLines(o.failure).map((l) => `  ${l}`) : []));
  return { out: ['', ...table(['host', 'did', 'result'], rows)], err };
}
