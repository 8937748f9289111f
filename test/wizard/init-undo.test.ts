import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { snapshotTree } from '../support/tree.js';
import { cleanupTemp, tempDir } from './support.js';

/**
 * init leaves nothing behind when it does not finish: Ctrl+C at a prompt writes nothing, and
 * when generate fails what init created is removed. generate and ask are stood in for here
 * (a double: a generate that fails after writing is hard to provoke for real); the real ones
 * are driven in init-cli.test.ts and terminal.test.ts.
 */

const failing = vi.hoisted(() => ({ generate: undefined as undefined | ((lab: string) => number) }));

vi.mock('../../generator/cli/generate.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../generator/cli/generate.js')>();
  return {
    ...real,
    generate: async (opts: { lab: string }) => (failing.generate ? failing.generate(opts.lab) : real.generate(opts)),
  };
});

vi.mock('../../generator/wizard/ask.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../generator/wizard/ask.js')>();
  return { ...real, ask: vi.fn(real.ask) };
});

const { initCommand, EXIT_CANCELLED } = await import('../../generator/cli/init.js');
const { ask } = await import('../../generator/wizard/ask.js');

/** A generate that writes part of a lab folder, then fails. */
function halfAGenerate(lab: string, how: 'throw' | 'exit 1'): number {
  const dir = dirname(lab);
  mkdirSync(join(dir, 'pis/node01'), { recursive: true });
  writeFileSync(join(dir, 'pis/node01/setup.sh'), '#!/bin/sh\n');
  writeFileSync(join(dir, 'README.md'), '# lab\n');
  if (how === 'throw') throw new LabgenError(EXIT.failure, 'disk full');
  return EXIT.failure;
}

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  failing.generate = undefined;
  vi.restoreAllMocks();
});
afterAll(cleanupTemp);

describe('init leaves nothing behind', () => {
  it('generate fails in a folder init created: the folders it made are gone', async () => {
    const base = tempDir();
    failing.generate = (lab) => halfAGenerate(lab, 'throw');
    await expect(initCommand(join(base, 'a/b/lab'), { yes: true })).rejects.toThrow('disk full');
    expect(existsSync(join(base, 'a'))).toBe(false);
  });

  it('generate fails in a folder that existed: what was there stays, what was added goes', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    mkdirSync(join(dir, 'pis'));
    const before = snapshotTree(dir);
    failing.generate = (lab) => halfAGenerate(lab, 'exit 1');
    expect(await initCommand(dir, { yes: true })).toBe(EXIT.failure);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('generate fails after --force replaced lab.yaml: the old one is back, mode and all', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lab.yaml'), '# mine\nversion: 1\n');
    chmodSync(join(dir, 'lab.yaml'), 0o600);
    const before = snapshotTree(dir);
    failing.generate = (lab) => halfAGenerate(lab, 'throw');
    await expect(initCommand(dir, { yes: true, force: true })).rejects.toThrow('disk full');
    expect(snapshotTree(dir)).toEqual(before);
    expect(statSync(join(dir, 'lab.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'lab.yaml'), 'utf8')).toBe('# mine\nversion: 1\n');
  });

  it('Ctrl+C at a prompt (@inquirer\'s ExitPromptError): exit 130, nothing written', async () => {
    const base = tempDir();
    vi.mocked(ask).mockRejectedValueOnce(Object.assign(new Error('User force closed the prompt with SIGINT'), { name: 'ExitPromptError' }));
    expect(await initCommand(join(base, 'lab'), {})).toBe(EXIT_CANCELLED);
    expect(EXIT_CANCELLED).toBe(130);
    expect(existsSync(join(base, 'lab'))).toBe(false);
    expect(vi.mocked(process.stderr.write)).toHaveBeenCalledWith('labgen: init cancelled; nothing was written\n');
  });

  it('any other error of the wizard is not taken for Ctrl+C', async () => {
    vi.mocked(ask).mockRejectedValueOnce(new TypeError('a bug'));
    await expect(initCommand(join(tempDir(), 'lab'), {})).rejects.toThrow('a bug');
  });
});
