import { hclQuote } from '../../common/quote.js';

/**
 * A small HCL writer for the Terraform export: a body is data (attributes, nested blocks,
 * comments), and text comes out as `terraform fmt` writes it (two-space indents; the `=` of
 * consecutive one-line attributes aligned, a multi-line value or a block ending the run). A
 * writer, not a template: every string from lab.yaml is quoted in one place (hclQuote, which also
 * escapes `${`), and the alignment, which a template would have to hand-count, is computed.
 */

/** An HCL expression written as it is: a reference (`var.image_name`), a call, a template string. */
export class Expr {
  constructor(readonly text: string) {}
}
export const expr = (text: string) => new Expr(text);

export type HclValue = string | number | boolean | null | Expr | HclValue[] | { [key: string]: HclValue };

export type HclItem =
  | { kind: 'attr'; name: string; value: HclValue }
  | { kind: 'block'; type: string; labels: string[]; body: HclItem[] }
  | { kind: 'comment'; text: string }
  | { kind: 'blank' };

export const attr = (name: string, value: HclValue): HclItem => ({ kind: 'attr', name, value });
export const block = (type: string, labels: string[], body: HclItem[]): HclItem => ({ kind: 'block', type, labels, body });
export const comment = (text: string): HclItem => ({ kind: 'comment', text });
export const blank: HclItem = { kind: 'blank' };

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const pad = (depth: number) => '  '.repeat(depth);

/** A value's lines: the first goes after `name = `, the others at their own indent. */
function valueLines(v: HclValue, depth: number): string[] {
  if (v instanceof Expr) return v.text.split('\n');
  if (v === null) return ['null'];
  if (typeof v === 'string') return [hclQuote(v)];
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  if (Array.isArray(v)) {
    const items = v.map((x) => valueLines(x, depth + 1));
    if (items.every((l) => l.length === 1)) return [`[${items.map((l) => l[0]).join(', ')}]`];
    return ['[', ...items.flatMap((l) => [`${pad(depth + 1)}${l[0]}`, ...l.slice(1)].map((x, i, a) => (i === a.length - 1 ? `${x},` : x))), `${pad(depth)}]`];
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return ['{}'];
  const keyed = entries.map(([k, x]): HclItem => attr(IDENT.test(k) ? k : hclQuote(k), x));
  return ['{', ...bodyLines(keyed, depth + 1), `${pad(depth)}}`];
}

/** A body's lines at `depth`: attributes in runs aligned on `=`, as terraform fmt does. */
function bodyLines(items: HclItem[], depth: number): string[] {
  const out: string[] = [];
  let run: { name: string; value: string }[] = [];
  const flush = () => {
    const width = Math.max(0, ...run.map((r) => r.name.length));
    for (const r of run) out.push(`${pad(depth)}${r.name.padEnd(width)} = ${r.value}`);
    run = [];
  };
  for (const item of items) {
    if (item.kind === 'attr') {
      const lines = valueLines(item.value, depth);
      if (lines.length === 1) {
        run.push({ name: item.name, value: lines[0]! });
        continue;
      }
      flush();
      out.push(`${pad(depth)}${item.name} = ${lines[0]}`, ...lines.slice(1));
      continue;
    }
    flush();
    if (item.kind === 'blank') out.push('');
    else if (item.kind === 'comment') out.push(...item.text.split('\n').map((l) => `${pad(depth)}#${l ? ` ${l}` : ''}`));
    else {
      const head = [item.type, ...item.labels.map(hclQuote)].join(' ');
      out.push(item.body.length ? `${pad(depth)}${head} {` : `${pad(depth)}${head} {}`, ...(item.body.length ? [...bodyLines(item.body, depth + 1), `${pad(depth)}}`] : []));
    }
  }
  flush();
  return out;
}

/** A whole file: the top-level items, blank lines kept as given. */
export function hcl(items: HclItem[]): string {
  return `${bodyLines(items, 0).join('\n')}\n`;
}
