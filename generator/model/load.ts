import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { z } from 'zod';
import { EXIT, LabgenError, LabValidationError } from '../errors.js';
import { applyDerivedDefaults, type Lab } from './defaults.js';
import { providerKeyProblems } from './provider-keys.js';
import { checkRules } from './rules.js';
import { labSchema } from './schema.js';

/** `pis.nodes[2].ip` from zod's ['pis', 'nodes', 2, 'ip']. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out ? `${out}.${String(k)}` : String(k)), '');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key (check its spelling against the lab.yaml reference)`);
  const path = formatPath(issue.path) || '(top level)';
  const value = valueAt(input, issue.path);
  const shown = value === undefined || typeof value === 'object' ? '' : ` (got ${JSON.stringify(value)})`;
  return [`${path}: ${issue.message}${shown}`];
}

/**
 * `services.X: { enabled: false }` turns a service off whatever else it says, so a disabled
 * service is dropped before validation: it needs no IP and reserves none.
 */
function withoutDisabledServices(input: unknown): unknown {
  if (!input || typeof input !== 'object' || !('services' in input)) return input;
  const services = (input as { services: unknown }).services;
  if (services === null) return { ...input, services: {} };
  if (typeof services !== 'object' || Array.isArray(services)) return input;
  const kept = Object.entries(services).filter(([, v]) => !(v && typeof v === 'object' && (v as { enabled?: unknown }).enabled === false));
  return { ...input, services: Object.fromEntries(kept) };
}

/** Validate a lab already in memory (the wizard's answers, a parsed file): every problem at once. */
export function validateLab(raw: unknown, source = 'lab.yaml'): Lab {
  const input = withoutDisabledServices(raw);
  const parsed = labSchema.safeParse(input);
  const keys = providerKeyProblems(input);
  if (!parsed.success) throw new LabValidationError(source, [...parsed.error.issues.flatMap((i) => describeIssue(i, input)), ...keys]);
  if (keys.length) throw new LabValidationError(source, keys);
  const lab = applyDerivedDefaults(parsed.data);
  const problems = checkRules(lab);
  if (problems.length) throw new LabValidationError(source, problems);
  return lab;
}

export function parseLabYaml(text: string, source = 'lab.yaml'): Lab {
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: source });
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      const where = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}` : 'unknown position';
      throw new LabgenError(EXIT.badInput, `${source}: YAML syntax error at ${where}: ${e.reason}`, {
        hint: 'fix the YAML at that position (indentation, a missing ":" or quote)',
      });
    }
    throw e;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new LabValidationError(source, ['(top level): must be a mapping with at least "version: 1"']);
  return validateLab(doc, source);
}

export function loadLab(file: string): Lab {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LabgenError(EXIT.badInput, code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code})`, {
      hint: code === 'ENOENT' ? 'run `npx labgen init` to create one, or pass --lab FILE' : undefined,
    });
  }
  return parseLabYaml(text, file);
}
