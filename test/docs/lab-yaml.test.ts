import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { labReference, REFERENCE_FILE } from '../../generator/model/reference.js';
import { RULE_DOCS } from '../../generator/model/rules.js';

/** docs/lab-yaml.md is made from the zod schema and the rules' table: it must be the current one. */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the lab.yaml reference (docs/lab-yaml.md)', () => {
  it('is the one made from generator/model/schema.ts and rules.ts', () => {
    // labReference() throws naming a key without a description, or a rule naming no key
    const fresh = labReference();
    const committed = readFileSync(join(ROOT, REFERENCE_FILE), 'utf8');
    expect(committed, `${REFERENCE_FILE} is stale: run \`npm run build && npm run docs\` and commit it`).toBe(fresh);
  });

  it('lists every key that reaches a leaf of the schema, and every rule', () => {
    const text = labReference();
    for (const key of ['version', 'network.dhcpRange', 'cluster.controlPlane.ip', 'pis.nodes[].roles', 'storage.exports[].size', 'services.registry.ui', 'slurm.nodes'])
      expect(text).toContain(`| \`${key}\` |`);
    RULE_DOCS.forEach((d, i) => expect(text).toContain(`${i + 1}. <a id="rule-${i + 1}"></a>${d.says}`));
  });

  it('README.md points at it', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`](${REFERENCE_FILE})`);
  });

  it("its generator is a dev script, kept out of the CLI's bundle", () => {
    const bundle = readdirSync(join(ROOT, 'dist/bin')).filter((f) => f.endsWith('.js'));
    expect(bundle.length, 'dist/bin/ is empty: run `npm run build`').toBeGreaterThan(0);
    for (const f of bundle) expect(readFileSync(join(ROOT, 'dist/bin', f), 'utf8'), f).not.toContain('Rules across keys');
  });
});
