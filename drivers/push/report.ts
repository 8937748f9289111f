import { failureLines as linesOf } from '../base/failure.js';
import { table } from '../base/table.js';
import type { Change } from './plan.js';
import type { HostResult } from './push.js';

/** What push and status print at the end: a table, then what the user must know per Pi. */

export { table };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function pushTable(results: HostResult[], dryRun: boolean): string[] {
  return table(
    ['host', 'address', dryRun ? 'would upload' : 'files', dryRun ? 'would run' : 'handlers', 'time', 'result'],
    results.map((r) => [
      r.node,
      r.address ?? '-',
      String(r.uploaded.length),
      r.handlers.length ? r.handlers.join(', ') : '0',
      seconds(r.ms),
      r.ok ? 'ok' : `FAILED (${r.failure?.step ?? '?'})`,
    ]),
  );
}

function changeLine(c: Change): string {
  const sign = c.why.includes('missing') ? '+' : '~';
  return `  ${sign} ${c.file.path}${c.why.includes('missing') ? '' : ` (${c.why.join(', ')})`}`;
}

/** Per Pi, in a dry run: each file that would be uploaded and why, and the handlers. */
export function dryRunLines(results: HostResult[]): string[] {
  return results
    .filter((r) => r.ok)
    .flatMap((r) => [
      `${r.node} (${r.address}): ${r.uploaded.length ? `${r.uploaded.length} file(s) would be uploaded` : 'in sync'}`,
      ...r.uploaded.map(changeLine),
      ...(r.handlers.length ? [`  would run: ${r.handlers.join(', ')}`] : []),
    ]);
}

export function noteLines(results: HostResult[]): string[] {
  return results.flatMap((r) => r.notes.map((n) => `${r.node}: ${n}`));
}

/** Each failed Pi: the step, the command and its exit code, the tail of stderr. */
export function failureLines(results: HostResult[]): string[] {
  return results
    .filter((r) => !r.ok && r.failure)
    .flatMap((r) => linesOf(r.failure!, r.address ? `${r.node} (${r.address})` : r.node));
}
