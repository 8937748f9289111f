import { type Heading, labYaml } from './lab-yaml.js';
import { complete, toLab } from './questions.js';

/**
 * labs/rpi-slurm/lab.yaml, the seed 003 lab, is what `labgen init --yes` writes: the defaults of
 * the wizard (model/seed.ts: DEFAULTS and SEED; model/services.ts: the seed addresses), in
 * init's layout, with its schema reference and opening comment. A dev script, not part of the
 * CLI: `node dist/generator/wizard/seed-file.js > labs/rpi-slurm/lab.yaml` rewrites the file after
 * a default changes; test/wizard/seed-file.test.ts fails while it is stale.
 */

export const SEED_FILE = 'labs/rpi-slurm/lab.yaml';

/** The repository's copy of the JSON Schema, from the seed file's folder. */
const SCHEMA_FROM_SEED = '../../schema/lab.schema.json';

const SEED_HEADING: Heading = {
  by: 'The seed 003 lab',
  then: `\`labgen init --yes\` writes the same lab (generator/wizard/seed-file.ts makes this file from init's defaults).`,
};

/** The text of labs/rpi-slurm/lab.yaml. */
export function seedLabYaml(): string {
  return labYaml(toLab(complete({})), SCHEMA_FROM_SEED, SEED_HEADING);
}

// `node dist/generator/wizard/seed-file.js` prints it
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(seedLabYaml());
