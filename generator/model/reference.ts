import { z } from 'zod';
import { RULE_DOCS } from './rules.js';
import { FORMATS, labSchema } from './schema.js';

/**
 * docs/lab-yaml.md, the lab.yaml reference: every key with its type, default and description
 * from the zod schema (through its JSON Schema, as editors see it), the value types with the
 * message a wrong value gets (FORMATS), and the cross-field rules (RULE_DOCS). A dev script,
 * not part of the CLI: `npm run docs` writes the file, test/docs/lab-yaml.test.ts checks it.
 */

export const REFERENCE_FILE = 'docs/lab-yaml.md';

interface Node {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
}

interface Row {
  key: string;
  node: Node;
  required: boolean;
}

/** `services.*` in a rule's keys: every service IP. */
const SERVICE_IPS = 'services.*';

/** Every key under node, depth first: a mapping's keys after it, a list's item keys as `list[].key`. */
function rows(node: Node, path: string, required: boolean, out: Row[]): Row[] {
  if (path) out.push({ key: path, node, required });
  const children = (obj: Node, prefix: string) => {
    for (const [k, child] of Object.entries(obj.properties ?? {})) rows(child, prefix ? `${prefix}.${k}` : k, obj.required?.includes(k) ?? false, out);
  };
  if (node.type === 'object') children(node, path);
  if (node.type === 'array' && node.items?.type === 'object') children(node.items, `${path}[]`);
  return out;
}

const code = (v: unknown) => `\`${typeof v === 'string' ? v : flow(v)}\``;

/** A value as lab.yaml would write it in flow style: `[8.8.8.8]`, `true`, `2`. */
function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(', ')} }`;
  return String(v);
}

function plural(word: string): string {
  if (word.endsWith('`')) return word;
  if (/(s|sh|ch|x)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

function oneOf(values: unknown[]): string {
  const shown = values.map(code);
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

function typeOf(key: string, n: Node, many = false): string {
  const name = (s: string) => (many ? plural(s) : s);
  if (n.const !== undefined) return code(n.const);
  if (n.enum) return oneOf(n.enum);
  switch (n.type) {
    case 'object':
      return name('mapping');
    case 'boolean':
      return name('boolean');
    case 'integer': {
      const max = n.maximum !== undefined && n.maximum < Number.MAX_SAFE_INTEGER ? n.maximum : undefined;
      const range = max !== undefined ? `${n.minimum ?? '…'}–${max}` : n.minimum !== undefined ? `≥ ${n.minimum}` : '';
      return `${name('integer')}${range ? ` ${range}` : ''}`;
    }
    case 'string': {
      if (n.pattern && !n.title) throw new Error(`${key}: a string with a pattern needs a title (a FORMATS entry in schema.ts)`);
      const base = n.title ?? (n.minLength === 1 ? 'non-empty string' : 'string');
      return `${name(base)}${n.maxLength !== undefined ? `, at most ${n.maxLength} characters` : ''}`;
    }
    case 'array':
      return `list of ${typeOf(key, n.items!, true)}${n.minItems ? ` (at least ${n.minItems})` : ''}`;
    default:
      throw new Error(`${key}: no way to describe a value of ${JSON.stringify(n)}`);
  }
}

function defaultOf(r: Row): string {
  const d = r.node.default;
  if (d === undefined) return r.required ? '**required**' : '—';
  if (r.node.type === 'object') return "its keys' defaults";
  return code(d);
}

/** Markdown table cell: no line breaks, pipes escaped. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const ruleLink = (i: number) => `[${i + 1}](#rule-${i + 1})`;

/** The rules that read a key, as links. */
function rulesOf(r: Row, keysOfRule: readonly (readonly string[])[]): string {
  const isServiceIp = r.key.startsWith('services.') && r.node.title === FORMATS.ipv4.title;
  const hits = keysOfRule.flatMap((keys, i) => (keys.includes(r.key) || (isServiceIp && keys.includes(SERVICE_IPS)) ? [ruleLink(i)] : []));
  return hits.length ? ` Rule${hits.length > 1 ? 's' : ''} ${hits.join(', ')}.` : '';
}

function table(list: Row[]): string[] {
  return [
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
    ...list.map((r) => {
      if (!r.node.description) throw new Error(`${r.key}: no description in schema.ts (add .describe())`);
      const description = `${r.node.description}${r.node.description.endsWith('.') ? '' : '.'}${rulesOf(r, RULE_DOCS.map((d) => d.keys))}`;
      return `| \`${r.key}\` | ${cell(typeOf(r.key, r.node))} | ${cell(defaultOf(r))} | ${cell(description)} |`;
    }),
  ];
}

/** The reference as Markdown. */
export function labReference(): string {
  const root = z.toJSONSchema(labSchema, { io: 'input', unrepresentable: 'any' }) as Node;
  const all = rows(root, '', true, []);
  const known = new Set(all.map((r) => r.key));
  RULE_DOCS.forEach((d, i) => {
    for (const k of d.keys) if (k !== SERVICE_IPS && !known.has(k)) throw new Error(`rule ${i + 1} names ${k}, which is no key of lab.yaml`);
  });
  const sections = Object.keys(root.properties ?? {}).filter((k) => root.properties![k]!.type === 'object');
  const topLevel = all.filter((r) => !r.key.includes('.') && !r.key.includes('[') && !sections.includes(r.key));
  const lines = [
    `<!-- Generated by \`npm run docs\` from generator/model/schema.ts and rules.ts (reference.ts); do not edit by hand. -->`,
    '',
    `# ${root.description} reference`,
    '',
    '`lab.yaml` is the one file you edit; `labgen generate` makes the lab folder from it. This page lists every key',
    'labgen reads. `labs/rpi-slurm/lab.yaml` is the seed lab (every section) and `labs/minimal/lab.yaml` the',
    'smallest one. Editors complete and check the file with `schema/lab.schema.json`, made from the same schema.',
    '',
    '- A key left out takes its default. **required** keys have none; inside an optional section (`storage`,',
    '  `slurm`, a service) they are required only when the section is there. `—` means left out is not set',
    '  (the description says what that means).',
    '- A misspelt key is an error, not a setting silently ignored: every mapping accepts only its own keys.',
    '- `key[]` is each item of the list `key`.',
    '- A service is turned off with `enabled: false` or by leaving it out; a service that is off needs no IP',
    '  and reserves none.',
    '- labgen checks everything before it writes anything and lists every problem at once, each with its key',
    '  path and value; a YAML syntax error shows its line and column.',
    '',
    '## Top level',
    '',
    ...table(topLevel),
    ...sections.flatMap((s) => ['', `## \`${s}\``, '', ...table(all.filter((r) => r.key === s || r.key.startsWith(`${s}.`)))]),
    '',
    '## Value types',
    '',
    '| type | a wrong value is told |',
    '| --- | --- |',
    ...Object.values(FORMATS).map((f) => `| ${f.title} | ${cell(f.message)} |`),
    '',
    '## Rules across keys',
    '',
    'Checked after the types and defaults, in this order. `services.*` stands for every service IP',
    '(`services.coredns.ip`, `services.registry.ui`, … and `slurm.ip` when slurmctld runs in the cluster).',
    '',
    ...RULE_DOCS.map((d, i) => `${i + 1}. <a id="rule-${i + 1}"></a>${d.says} Keys: ${d.keys.map((k) => `\`${k}\``).join(', ')}.`),
  ];
  return `${lines.join('\n')}\n`;
}

// `node dist/generator/model/reference.js` prints it (npm run docs writes docs/lab-yaml.md)
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(labReference());
