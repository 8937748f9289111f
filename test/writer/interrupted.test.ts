import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { TEMP_NAME } from '../../generator/common/atomic.js';
import { REPO_ROOT } from '../support/generated.js';
import { editFile, labDirFrom, removeDir, snapshotTree } from '../support/tree.js';
import { assertBuilt, labgen } from '../workflow/support.js';
import { JOURNAL } from '../../generator/common/layout.js';

/**
 * kill -9 in the middle of a regenerate, for real: a child process runs the writer with fs
 * operations that count themselves and send SIGKILL to their own process at step N (so the
 * point of death is chosen, not raced). Every file is then old or new; the temp files the dead
 * run left are reported by `--check` and removed by the next `generate`, which then leaves
 * exactly the tree an uninterrupted run makes.
 */

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

const dist = (p: string) => JSON.stringify(join(REPO_ROOT, 'dist', 'generator', p));

/** A child that regenerates `labFile` and kills itself with SIGKILL at fs step `killAt` (0: never; prints the count). */
const CHILD = `
const { openLabFolder } = await import(${dist('lab-folder/open.js')});
const { apply, nextManifest, realFs } = await import(${dist('writer/apply.js')});
const [labFile, killAt] = [process.argv[1], Number(process.argv[2])];
let n = 0;
const step = (f) => (...a) => { if (++n === killAt) process.kill(process.pid, 'SIGKILL'); return f(...a); };
const ops = Object.fromEntries(Object.entries(realFs).map(([k, f]) => [k, step(f)]));
const p = openLabFolder(labFile);
apply(p.labDir, p.decisions, nextManifest(p.decisions, p.manifest, p.secrets.names), ops, { meta: p.secrets.pending() });
process.stdout.write(String(n));
`;

function regenerate(labFile: string, killAt: number) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, labFile, String(killAt)], { encoding: 'utf8' });
}

/** Paths (relative) of labgen's temp files anywhere under dir. */
function temps(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return temps(dir, p);
    return TEMP_NAME.test(e.name) ? [p] : [];
  });
}

describe('a regenerate killed with SIGKILL', () => {
  it('leaves every file old or new; --check reports the temp files; the next generate removes them and finishes the job', () => {
    assertBuilt();
    const dir = labDirFrom('rpi-slurm');
    dirs.push(dir);
    const file = join(dir, 'lab.yaml');
    expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
    // a change that creates (a new Pi, with new secrets), updates and removes files (a worker's
    // config, and node05's whole tree: a Pi that leaves the lab)
    editFile(dir, 'lab.yaml', (s) =>
      s
        .replace('count: 3', 'count: 2')
        .replace(/(name: node03, ip: )[\d.]+/, '$110.0.0.77')
        .replace('  nodes:\n', '  nodes:\n    - { name: node09, ip: 10.0.0.79 }\n')
        .replace(/\n\s*- \{ name: node05,[^\n]*/, '')
        .replace('node04, node05]', 'node04]'),
    );
    const before = snapshotTree(dir);

    // the tree an uninterrupted run makes, and how many fs steps it takes
    const whole = mkdtempSync(join(dir, '..', 'labgen-whole-'));
    dirs.push(whole);
    cpSync(dir, whole, { recursive: true });
    const done = regenerate(join(whole, 'lab.yaml'), 0);
    expect(done.status, done.stderr).toBe(0);
    const steps = Number(done.stdout);
    expect(steps).toBeGreaterThan(20);
    const after = snapshotTree(whole);
    // the new Pi's host key is made anew by each run: compare the files labgen writes from lab.yaml
    const comparable = (t: Record<string, unknown>) => Object.fromEntries(Object.entries(t).filter(([p]) => !p.startsWith('.labgen/') && !p.includes('node09')));

    // a few points of death across the run: early staging, mid-swap, at the manifest
    for (const killAt of [3, Math.floor(steps / 3), Math.floor(steps / 2), steps - 2]) {
      const victim = mkdtempSync(join(dir, '..', 'labgen-killed-'));
      dirs.push(victim);
      cpSync(dir, victim, { recursive: true });
      const r = regenerate(join(victim, 'lab.yaml'), killAt);
      expect(r.signal, `killed at step ${killAt}`).toBe('SIGKILL');

      // every file old or new, and never missing where both old and new have it (temp files aside)
      const now = snapshotTree(victim);
      for (const path of new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(now)])) {
        if (TEMP_NAME.test(path.split('/').pop()!) || path.includes('node09') || path.startsWith('.labgen/')) continue;
        expect([before[path], after[path]], `${path} after a kill at step ${killAt}`).toContainEqual(now[path]);
      }
      // the temp files, and the journal that says a transaction did not finish
      const left = [...temps(victim), ...(existsSync(join(victim, JOURNAL)) ? [JOURNAL] : [])];
      expect(left.length, `temp files after a kill at step ${killAt}`).toBeGreaterThan(1);

      const check = labgen(['generate', '--check', '--lab', join(victim, 'lab.yaml')]);
      expect(check.code).toBe(EXIT.failure);
      expect(check.stdout).toMatch(new RegExp(`left behind: ${left.length} temp file\\(s\\) an interrupted labgen left`));

      const next = labgen(['generate', '--lab', join(victim, 'lab.yaml')]);
      expect(next.code, next.stderr).toBe(EXIT.ok);
      expect(next.stdout).toContain(`removed ${left.length} temp file(s)`);
      expect(temps(victim)).toEqual([]);
      expect(existsSync(join(victim, JOURNAL))).toBe(false);
      expect(comparable(snapshotTree(victim)), `the tree after a kill at step ${killAt} and a regenerate`).toEqual(comparable(after));
      expect(labgen(['generate', '--check', '--lab', join(victim, 'lab.yaml')]).code).toBe(EXIT.ok);
    }
  });

  it('a first generate killed: the next one finishes it without a conflict (secrets land before what is made of them)', () => {
    assertBuilt();
    const dir = labDirFrom('rpi-slurm');
    dirs.push(dir);
    const probe = mkdtempSync(join(dir, '..', 'labgen-probe-'));
    dirs.push(probe);
    cpSync(dir, probe, { recursive: true });
    const steps = Number(regenerate(join(probe, 'lab.yaml'), 0).stdout);
    for (const killAt of [Math.floor(steps / 4), Math.floor(steps / 2), steps - 3]) {
      const victim = mkdtempSync(join(dir, '..', 'labgen-first-'));
      dirs.push(victim);
      cpSync(dir, victim, { recursive: true });
      expect(regenerate(join(victim, 'lab.yaml'), killAt).signal).toBe('SIGKILL');
      const next = labgen(['generate', '--lab', join(victim, 'lab.yaml')]);
      expect(next.stdout, `killed at ${killAt}`).not.toMatch(/conflict/);
      expect(next.code, `killed at ${killAt}: ${next.stderr}`).toBe(EXIT.ok);
      expect(labgen(['generate', '--check', '--lab', join(victim, 'lab.yaml')]).code).toBe(EXIT.ok);
    }
  });

  it('a temp file of a dead run that had this run\'s pid (pid 1 in a container) does not block it', async () => {
    assertBuilt();
    const dir = labDirFrom('minimal');
    dirs.push(dir);
    const file = join(dir, 'lab.yaml');
    expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
    // this process runs the next generate in-process: the leftover bears its own pid
    const leftover = join(dir, `.README.md.labgen-old-${process.pid}`);
    writeFileSync(leftover, 'a dead run\'s copy\n');
    editFile(dir, 'lab.yaml', (s) => s.replace('name: minilab', 'name: minilab2'));
    const { generate } = await import('../../generator/cli/generate.js');
    const lines: string[] = [];
    expect(await generate({ lab: file }, { out: (l) => lines.push(l), err: (l) => lines.push(l), tty: false })).toBe(EXIT.ok);
    expect(existsSync(leftover)).toBe(false);
    expect(labgen(['generate', '--check', '--lab', file]).code).toBe(EXIT.ok);
  });

  it('a second labgen while one is writing: refused, naming the pid; the live one is not taken for debris', () => {
    assertBuilt();
    const dir = labDirFrom('minimal');
    dirs.push(dir);
    const file = join(dir, 'lab.yaml');
    expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
    writeFileSync(join(dir, JOURNAL), `${process.pid}\n`); // this test process stands for the labgen writing
    expect(labgen(['generate', '--check', '--lab', file]).code).toBe(EXIT.ok);
    editFile(dir, 'lab.yaml', (s) => s.replace('name: minilab', 'name: minilab2'));
    const before = snapshotTree(dir);
    const r = labgen(['generate', '--lab', file]);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toContain(`another labgen (pid ${process.pid}) is writing this lab folder`);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('a temp-like name that is not labgen’s, or a temp file of a labgen still running, is left alone', () => {
    assertBuilt();
    const dir = labDirFrom('minimal');
    dirs.push(dir);
    const file = join(dir, 'lab.yaml');
    expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
    const mine = ['notes.labgen-new-123', '.notes.labgen-draft-5', `.README.md.labgen-new-${process.pid}`]; // the last: a live pid
    for (const name of mine) writeFileSync(join(dir, name), 'mine\n');
    const check = labgen(['generate', '--check', '--lab', file]);
    expect(check.code).toBe(EXIT.ok);
    expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
    for (const name of mine) expect(snapshotTree(dir)[name]?.content).toBe('mine\n');
  });
});
