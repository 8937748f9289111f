import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { type FsOps, realFs } from '../../generator/writer/apply.js';
import { snapshotTree } from '../support/tree.js';
import { cleanupTemp, tempDir } from './support.js';

/**
 * init leaves nothing behind when it does not finish: Ctrl+C at a prompt writes nothing, and
 * lab.yaml is written in the writer's one transaction with the lab folder, so a failure at any
 * point of it (injected into the real writer's file operations) leaves neither. The real
 * terminal is driven in init-cli.test.ts and terminal.test.ts.
 */

vi.mock('../../generator/wizard/ask.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../generator/wizard/ask.js')>();
  return { ...real, ask: vi.fn(real.ask) };
});

const { initCommand } = await import('../../generator/cli/init.js');
const { ask } = await import('../../generator/wizard/ask.js');

/** The real file operations, except that number `failAt` throws as a full disk would. */
function failingAt(failAt: number): FsOps {
  let n = 0;
  const wrap =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      if (++n === failAt) throw new LabgenError(EXIT.failure, 'disk full');
      f(...a);
    };
  return { ...realFs, writeFile: wrap(realFs.writeFile), rename: wrap(realFs.rename), mkdir: wrap(realFs.mkdir), link: wrap(realFs.link) };
}

/** Early (the lab folder being made), in the middle, and late (lab.yaml and the manifest). */
const FAIL_POINTS = [1, 2, 40, 150, 240];

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(cleanupTemp);

describe('init leaves nothing behind', () => {
  it('the write fails in a folder init created: the folders it made are gone', async () => {
    for (const failAt of FAIL_POINTS) {
      const base = tempDir();
      await expect(initCommand(join(base, 'a/b/lab'), { yes: true }, { ops: failingAt(failAt) }), `failure at step ${failAt}`).rejects.toThrow('disk full');
      expect(existsSync(join(base, 'a')), `failure at step ${failAt}`).toBe(false);
    }
  });

  it('the write fails in a folder that existed: what was there stays, nothing is added', async () => {
    for (const failAt of FAIL_POINTS) {
      const dir = tempDir();
      writeFileSync(join(dir, 'notes.txt'), 'mine\n');
      mkdirSync(join(dir, 'pis'));
      const before = snapshotTree(dir);
      await expect(initCommand(dir, { yes: true }, { ops: failingAt(failAt) })).rejects.toThrow('disk full');
      expect(snapshotTree(dir), `failure at step ${failAt}`).toEqual(before);
    }
  });

  it('the write fails after --force replaced lab.yaml: the old one is back, mode and all', async () => {
    for (const failAt of FAIL_POINTS) {
      const dir = tempDir();
      writeFileSync(join(dir, 'lab.yaml'), '# mine\nversion: 1\n');
      chmodSync(join(dir, 'lab.yaml'), 0o600);
      const before = snapshotTree(dir);
      await expect(initCommand(dir, { yes: true, force: true }, { ops: failingAt(failAt) })).rejects.toThrow('disk full');
      expect(snapshotTree(dir), `failure at step ${failAt}`).toEqual(before);
      expect(statSync(join(dir, 'lab.yaml')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, 'lab.yaml'), 'utf8')).toBe('# mine\nversion: 1\n');
    }
  });

  it('without a failure the same init writes lab.yaml and the folder (the fail points are inside the write)', async () => {
    const dir = join(tempDir(), 'lab');
    let steps = 0;
    const counting: FsOps = { ...realFs, writeFile: (...a) => (steps++, realFs.writeFile(...a)), rename: (...a) => (steps++, realFs.rename(...a)), mkdir: (...a) => (steps++, realFs.mkdir(...a)), link: (...a) => (steps++, realFs.link(...a)) };
    expect(await initCommand(dir, { yes: true }, { ops: counting })).toBe(EXIT.ok);
    expect(readFileSync(join(dir, 'lab.yaml'), 'utf8')).toContain('version: 1');
    expect(steps).toBeGreaterThan(Math.max(...FAIL_POINTS));
  });

  it('Ctrl+C at a prompt (@inquirer\'s ExitPromptError): exit 130, nothing written', async () => {
    const base = tempDir();
    vi.mocked(ask).mockRejectedValueOnce(Object.assign(new Error('User force closed the prompt with SIGINT'), { name: 'ExitPromptError' }));
    expect(await initCommand(join(base, 'lab'), {})).toBe(EXIT.cancelled);
    expect(EXIT.cancelled).toBe(130);
    expect(existsSync(join(base, 'lab'))).toBe(false);
    expect(vi.mocked(process.stderr.write)).toHaveBeenCalledWith('labgen: init cancelled; nothing was written\n');
  });

  it('any other error of the wizard is not taken for Ctrl+C', async () => {
    vi.mocked(ask).mockRejectedValueOnce(new TypeError('a bug'));
    await expect(initCommand(join(tempDir(), 'lab'), {})).rejects.toThrow('a bug');
  });
});
