import { packageFile } from '../../paths.js';
import { type FileSpec, MODE } from '../file-spec.js';

/**
 * lab.schema.json in the lab folder: the JSON Schema of lab.yaml, so the first line of lab.yaml
 * (`# yaml-language-server: $schema=lab.schema.json`) works offline, moves with the folder and
 * matches the labgen that wrote it. It is the schema shipped in the package (schema/, checked
 * against the zod schema by a test), read once like a template.
 */
export const LAB_SCHEMA = 'lab.schema.json';

export function planLabSchema(): FileSpec[] {
  return [{ path: LAB_SCHEMA, contents: packageFile('schema/lab.schema.json'), mode: MODE.file, kind: 'doc' }];
}
