import { createTwoFilesPatch } from 'diff';
import type { Decision } from './decide.js';

/** Kept apart from report.ts so only --dry-run loads the diff library. */

/** A unified diff of what the decision would do to the file. */
export function unifiedDiff(d: Decision): string {
  const before = d.current ?? '';
  const after = d.action === 'remove' ? '' : (d.spec?.contents ?? '');
  return createTwoFilesPatch(d.current === undefined ? '/dev/null' : `a/${d.path}`, d.action === 'remove' ? '/dev/null' : `b/${d.path}`, before, after, '', '', {
    context: 3,
  });
}

