import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labYaml } from '../../generator/wizard/lab-yaml.js';
import { SEED_FILE, seedLabYaml } from '../../generator/wizard/seed-file.js';
import { complete, toLab } from '../../generator/wizard/questions.js';
import { ROOT } from './support.js';

/** labs/rpi-slurm/lab.yaml is made from the wizard's defaults (the one source of the seed lab): it must be the current one. */

describe('the seed lab (labs/rpi-slurm/lab.yaml)', () => {
  it('is the one generator/wizard/seed-file.ts makes from the defaults of labgen init', () => {
    const committed = readFileSync(join(ROOT, SEED_FILE), 'utf8');
    expect(committed, `${SEED_FILE} is stale: run \`npm run build && node dist/generator/wizard/seed-file.js > ${SEED_FILE}\``).toBe(seedLabYaml());
  });

  it('is what `labgen init --yes` writes, but for its opening comment and its schema reference', () => {
    const body = (text: string) => text.split('\n').filter((l) => !l.startsWith('#') || l.startsWith('# no '));
    expect(body(seedLabYaml())).toEqual(body(labYaml(toLab(complete({})), 'lab.schema.json')));
    expect(seedLabYaml()).toMatch(/^# yaml-language-server: \$schema=\.\.\/\.\.\/schema\/lab\.schema\.json\n# The seed 003 lab: /);
  });
});
