import { createTwoFilesPatch } from 'diff';
import { isSecretPath } from '../secrets/paths.js';
import type { Decision } from './decide.js';

/** Kept apart from report.ts so only --dry-run loads the diff library. */

/** A unified diff of what the decision would do to the file; of a secret file, only that it changes. */
export function unifiedDiff(d: Decision): string {
  if (isSecretPath(d.path)) return `${d.action} ${d.path}: secret, its contents are not shown\n`;
  const current = d.current; // read from disk when asked (decide.ts): once
  const before = current ?? '';
  const after = d.action === 'remove' ? '' : (d.spec?.contents ?? '');
  return createTwoFilesPatch(current === undefined ? '/dev/null' : `a/${d.path}`, d.action === 'remove' ? '/dev/null' : `b/${d.path}`, before, after, '', '', {
    context: 3,
  });
}

