import { z } from 'zod';
import { labSchema } from './schema.js';

/** The JSON Schema editors use to complete and check lab.yaml, made from the one zod schema. */
export function labJsonSchema(): object {
  return {
    $id: 'https://labgen.dev/schema/lab.schema.json',
    title: 'labgen lab.yaml v1',
    ...z.toJSONSchema(labSchema, { io: 'input', unrepresentable: 'any' }),
  };
}

// `node dist/generator/model/json-schema.js` prints it (npm run schema writes schema/lab.schema.json)
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${JSON.stringify(labJsonSchema(), null, 2)}\n`);
