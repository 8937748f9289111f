import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/generated.js';
import { removeDir } from '../support/tree.js';

/**
 * The layers of .dependency-cruiser.cjs (its header says them in words), checked by the real
 * dependency-cruiser over the sources: no cycles, commands imported by nobody, a pure plan.
 * That the check can fail is shown on a copy of the config against a small tree with a cycle
 * and a plan that reads a file.
 */

const DEPCRUISE = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');
const SOURCES = ['generator', 'drivers', 'rpi'].filter((d) => spawnSync('test', ['-d', join(REPO_ROOT, d)]).status === 0);

function cruise(cwd: string, dirs: string[]) {
  const r = spawnSync(DEPCRUISE, ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...dirs], { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const temp: string[] = [];
afterAll(() => temp.forEach(removeDir));

describe('architecture (dependency-cruiser)', () => {
  it('the sources keep the layers: no cycle, no command imported, the plan pure', () => {
    const r = cruise(REPO_ROOT, SOURCES);
    expect(r.out).not.toMatch(/error /);
    expect(r.code, r.out).toBe(0);
  });

  it('the rules bite: a cycle, a plan that reads a file and a driver that imports a command are each reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labgen-arch-'));
    temp.push(dir);
    cpSync(join(REPO_ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
    const file = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    file('generator/model/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
    file('generator/model/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
    file('generator/plan/p.ts', "import { readFileSync } from 'node:fs';\nexport const p = () => readFileSync('x');\n");
    file('generator/cli/c.ts', 'export const c = 1;\n');
    file('drivers/d/d.ts', "import { c } from '../../generator/cli/c.js';\nexport const d = c;\n");
    const r = cruise(dir, ['generator', 'drivers']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error no-cycles: generator\/model\/a\.ts/);
    expect(r.out).toMatch(/error plan-is-pure: generator\/plan\/p\.ts → fs/);
    expect(r.out).toMatch(/error cli-is-glue: drivers\/d\/d\.ts → generator\/cli\/c\.ts/);
  });
});
