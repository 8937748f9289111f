import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';
import { parseLabYaml } from '../model/load.js';
import { ask, isPromptExit } from '../wizard/ask.js';
import { INIT_FLAGS, type QuestionKey } from '../wizard/flags.js';
import { labYaml, SCHEMA_REF } from '../wizard/lab-yaml.js';
import { toLab } from '../wizard/questions.js';
import { generate, type GenerateIo } from './generate.js';

/**
 * `labgen init [DIR]`: the wizard (flags first, prompts for the rest on a terminal), then
 * DIR/lab.yaml, then `generate` writes the lab folder.
 *
 * Nothing is written until every answer is in, so Ctrl+C at a prompt leaves DIR as it was
 * (exit 130). lab.yaml and the lab folder are then written as one transaction: if it fails,
 * nothing of either is left (Ctrl+C during it waits until it is done). An existing lab.yaml is
 * a conflict (exit 3, as generate treats a file edited by hand) unless --force; a bad or, with
 * no terminal and no --yes, missing answer is exit 2 naming the flags.
 */

export type InitOptions = Partial<Record<QuestionKey, string>> & { yes?: boolean; force?: boolean };

const LAB_FILE = 'lab.yaml';

function refuseExisting(labDir: string, labFile: string, force?: boolean): void {
  if (existsSync(labDir) && !statSync(labDir).isDirectory())
    throw new LabgenError(EXIT.badInput, `${labDir} exists and is not a folder`, { hint: 'give init a folder for the lab' });
  if (existsSync(labFile) && !force)
    throw new LabgenError(EXIT.conflict, `${labFile} already exists; nothing was changed`, {
      hint: 'edit it and run `labgen generate`, or run `labgen init` again with --force to replace it',
    });
}

export async function initCommand(dir: string, opts: InitOptions, io: GenerateIo = {}): Promise<number> {
  const labDir = resolve(dir);
  const labFile = join(labDir, LAB_FILE);
  refuseExisting(labDir, labFile, opts.force);

  const flags = Object.fromEntries(Object.keys(INIT_FLAGS).flatMap((k) => (opts[k as QuestionKey] === undefined ? [] : [[k, opts[k as QuestionKey]]])));
  let answers;
  try {
    answers = await ask({ flags, yes: Boolean(opts.yes), interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY) });
  } catch (e) {
    if (!isPromptExit(e)) throw e;
    ioOf(io).err('labgen: init cancelled; nothing was written');
    return EXIT.cancelled;
  }
  const text = labYaml(toLab(answers), SCHEMA_REF);
  parseLabYaml(text, labFile); // the file as generate will read it: the same rules once more

  refuseExisting(labDir, labFile, opts.force); // still true after the questions?
  // lab.yaml is written in the writer's transaction with the lab folder: if anything fails,
  // neither is there (and a lab.yaml replaced with --force is back as it was)
  const code = await generate({ lab: labFile, labText: text }, io);
  if (code !== EXIT.ok) return code;
  const shown = relative(process.cwd(), labFile);
  ioOf(io).out(`wrote ${shown.startsWith('..') ? labFile : shown}: the lab; edit it, then run \`labgen generate\``);
  return EXIT.ok;
}
