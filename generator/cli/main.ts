#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, LabgenError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';

/**
 * labgen's entry point and its one error boundary. Commands are imported when run, so
 * `labgen --help` loads nothing but commander.
 */

const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

const EXAMPLES = `
Examples:
  labgen generate                      write or update the lab folder next to ./lab.yaml
  labgen generate --dry-run            show what would change, with a diff; write nothing
  labgen generate --check              exit 1 when the lab folder is out of date (for CI)
  labgen generate --lab labs/x/lab.yaml --force   overwrite files edited by hand

Exit codes: 0 ok, 1 failure, 2 bad input or usage, 3 conflict (hand-edited files, nothing written).`;

function program(): Command {
  const cli = new Command('labgen')
    .description('Generate and run a Kubernetes + Slurm home lab of a laptop and Raspberry Pis from one lab.yaml')
    .version(version)
    .exitOverride()
    .addHelpText('after', EXAMPLES);

  cli
    .command('generate')
    .description('(re)write the lab folder from lab.yaml; never overwrites a file edited by hand')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--dry-run', 'print what would change and a unified diff; write nothing')
    .option('--check', 'exit 1 when the lab folder is out of date; write nothing')
    .option('--force', 'overwrite files edited by hand')
    .addHelpText('after', '\nExample:\n  labgen generate --dry-run')
    .action(async (opts) => {
      const { generate } = await import('./generate.js');
      process.exitCode = await generate(opts);
    });

  return cli;
}

function fail(e: unknown): number {
  if (e instanceof CommanderError) {
    // help and --version "fail" with exit code 0; everything else commander rejects is usage
    return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  if (e instanceof LabgenError) {
    process.stderr.write(`labgen: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    return e.code;
  }
  process.stderr.write(`labgen: unexpected error (a bug; please report it):\n${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.failure;
}

program()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.exitCode = fail(e);
  });
