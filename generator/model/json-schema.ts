import { z } from 'zod';
import { labSchema } from './schema.js';

/** The JSON Schema editors use to complete and check lab.yaml, made from the one zod schema. */
export function labJsonSchema(): object {
  const schema = z.toJSONSchema(labSchema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  allowDisabledServices(schema);
  return { $id: 'https://labgen.dev/schema/lab.schema.json', title: 'labgen lab.yaml v1', ...schema };
}

type JsonObject = { properties?: Record<string, JsonObject>; [k: string]: unknown };

/** labgen drops `services.X: { enabled: false }` before validating (load.ts); editors should accept it too. */
function allowDisabledServices(schema: JsonObject): void {
  const services = schema.properties?.services?.properties ?? {};
  for (const [name, service] of Object.entries(services))
    services[name] = { anyOf: [{ type: 'object', properties: { enabled: { const: false } }, required: ['enabled'] }, service] };
}

// `node dist/generator/model/json-schema.js` prints it (npm run schema writes schema/lab.schema.json)
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${JSON.stringify(labJsonSchema(), null, 2)}\n`);
