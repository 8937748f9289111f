import { styleText } from 'node:util';
import type { Action, Decision } from './decide.js';

/** How decisions read on a terminal: one line a changed file, a count of the identical ones. */

const COLOR: Record<Action, Parameters<typeof styleText>[0]> = {
  create: 'green',
  update: 'yellow',
  remove: 'red',
  conflict: 'magenta',
  kept: 'cyan',
  identical: 'gray',
};

export function paint(color: Parameters<typeof styleText>[0], text: string, tty: boolean): string {
  return tty ? styleText(color, text) : text;
}

export function decisionLines(decisions: Decision[], tty: boolean): string[] {
  const lines = decisions
    .filter((d) => d.action !== 'identical')
    .map((d) => `  ${paint(COLOR[d.action], d.action.padEnd(9), tty)} ${d.path}${d.reason ? `  (${d.reason})` : ''}`);
  const same = decisions.filter((d) => d.action === 'identical').length;
  if (same) lines.push(`  ${paint('gray', `${same} file${same === 1 ? '' : 's'} identical`, tty)}`);
  return lines;
}

export function summary(decisions: Decision[]): string {
  const count = (a: Action) => decisions.filter((d) => d.action === a).length;
  const parts = (['create', 'update', 'remove', 'conflict', 'kept', 'identical'] as const).filter((a) => count(a)).map((a) => `${count(a)} ${a}`);
  return parts.join(', ') || 'no files';
}
