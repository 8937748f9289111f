import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generate, type GenerateIo } from '../../generator/cli/generate.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import type { Decision } from '../../generator/writer/decide.js';
import { nextKeep, parseKeep, serializeKeep, withKept } from '../../generator/writer/keep.js';
import type { Answer } from '../../generator/writer/resolve.js';
import { editFile, labDirFrom, removeDir, snapshotTree } from '../support/tree.js';
import { KEEP } from '../../generator/common/layout.js';

/**
 * The per-file conflict questions at unit level: generate() with `interactive` and a scripted
 * `ask` (the terminal itself, with @inquirer/prompts' select, is tested through tmux in
 * conflict-tty.test.ts).
 */

const dirs: string[] = [];
function lab(): { dir: string; file: string } {
  const dir = labDirFrom('rpi-slurm');
  dirs.push(dir);
  return { dir, file: join(dir, 'lab.yaml') };
}
afterEach(() => {
  dirs.splice(0).forEach(removeDir);
  vi.restoreAllMocks();
});

/** A scripted `ask`: answers in order, recording which files it was asked about. */
function script(...answers: Answer[]) {
  const asked: string[] = [];
  const ask: GenerateIo['ask'] = async (d) => {
    asked.push(d.path);
    const a = answers.shift();
    if (!a) throw new Error(`asked about ${d.path} with no answer left`);
    return a;
  };
  return { asked, ask, left: () => answers.length };
}

async function run(file: string, io: GenerateIo = {}, opts: { force?: boolean; check?: boolean; dryRun?: boolean } = {}) {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
  try {
    const code = await generate({ lab: file, ...opts }, { interactive: false, ...io }).catch((e: unknown) => {
      if (e instanceof LabgenError) return e.code;
      throw e;
    });
    return { code, output: lines.join('') };
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
  }
}

const SSH = 'laptop/ssh_config';
const mine = (s: string) => `${s}\nHost extra\n  HostName 10.0.0.99\n`;
/** a change to lab.yaml that changes laptop/ssh_config too (and much else) */
const moveNode03 = (to: string) => (s: string) => s.replace(/(name: node03, ip: )[\d.]+/, `$1${to}`);

describe('conflicts on a terminal: overwrite / keep / show diff / abort', () => {
  it('keep: the hand edit stays, .labgen/keep has the path, the rest is written, and the next run does not ask', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, SSH, mine);
    editFile(dir, 'lab.yaml', moveNode03('10.0.0.7'));
    const edited = readFileSync(join(dir, SSH), 'utf8');
    const s = script('keep');
    const first = await run(file, { interactive: true, ask: s.ask });
    expect(first.code).toBe(EXIT.ok);
    expect(s.asked).toEqual([SSH]);
    expect(readFileSync(join(dir, SSH), 'utf8')).toBe(edited);
    expect(readFileSync(join(dir, KEEP), 'utf8')).toBe(`${SSH}\n`);
    expect(readFileSync(join(dir, 'laptop/hosts'), 'utf8')).toContain('10.0.0.7');
    expect(first.output).toMatch(/kept\s+laptop\/ssh_config\s+\(edited by hand\)/);

    // not asked again, on a terminal or not; reported as kept; --check passes
    editFile(dir, 'lab.yaml', moveNode03('10.0.0.8'));
    const again = script();
    const second = await run(file, { interactive: true, ask: again.ask });
    expect(second.code).toBe(EXIT.ok);
    expect(again.asked).toEqual([]);
    expect(second.output).toMatch(/kept\s+laptop\/ssh_config\s+\(edited by hand; stale/);
    expect(second.output).not.toMatch(/conflict/);
    expect(readFileSync(join(dir, SSH), 'utf8')).toBe(edited);
    // labgen's ssh_config moved on (node03's address) since it was kept: the kept file is stale
    const check = await run(file, {}, { check: true });
    expect(check.code).toBe(EXIT.failure);
    expect(check.output).toMatch(/kept\s+laptop\/ssh_config\s+\(edited by hand; stale/);
    expect((await run(file)).code).toBe(EXIT.ok);
  });

  it('a kept file is stale once labgen’s version changes: generate and --check name it, and what next does not send the user to it', async () => {
    const { dir, file } = lab();
    await run(file);
    const HOSTS = 'laptop/hosts';
    editFile(dir, HOSTS, (t) => `${t}10.0.0.99 printer\n`);
    expect((await run(file, { interactive: true, ask: script('keep').ask })).code).toBe(EXIT.ok);
    // kept, nothing of labgen's changed since: not stale, --check passes
    const fresh = await run(file, {}, { check: true });
    expect(fresh.code).toBe(EXIT.ok);
    expect(fresh.output).toMatch(/kept\s+laptop\/hosts\s+\(edited by hand\)$/m);

    editFile(dir, 'lab.yaml', moveNode03('10.0.0.7'));
    const check = await run(file, {}, { check: true });
    expect(check.code).toBe(EXIT.failure);
    expect(check.output).toMatch(/^out of date: /m);
    expect(check.output).toMatch(/kept\s+laptop\/hosts\s+\(edited by hand; stale: labgen's version changed since it was kept\)/);

    const dry = await run(file, {}, { dryRun: true });
    expect(dry.output).toContain('--- a/laptop/hosts'); // what overwriting it would bring
    expect(dry.output).toMatch(/^\+10\.0\.0\.7\s+node03/m);

    const r = await run(file);
    expect(r.code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, HOSTS), 'utf8')).toContain('10.0.0.99 printer');
    expect(r.output).toMatch(/kept\s+laptop\/hosts\s+\(edited by hand; stale/);
    const next = r.output.split('\n').find((l) => l.startsWith('next:'))!;
    expect(next).toBeDefined();
    expect(next).not.toContain('copy laptop/hosts into /etc/hosts');
    expect(next).toContain('laptop/hosts.windows'); // the Windows file is labgen's and did change
    expect(r.output).toContain('laptop/hosts is kept as edited by hand and misses this change');
    // still stale on the next run, until the user settles it
    expect((await run(file, {}, { check: true })).code).toBe(EXIT.failure);
    expect((await run(file, {}, { force: true })).code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, HOSTS), 'utf8')).toMatch(/10\.0\.0\.7\s+node03/);
    expect((await run(file, {}, { check: true })).code).toBe(EXIT.ok);
  });

  it('overwrite: the file is replaced with the generated one, nothing is remembered', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, SSH, mine);
    editFile(dir, 'lab.yaml', moveNode03('10.0.0.7'));
    const s = script('overwrite');
    expect((await run(file, { interactive: true, ask: s.ask })).code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, SSH), 'utf8')).not.toContain('Host extra');
    expect(readFileSync(join(dir, SSH), 'utf8')).toContain('HostName 10.0.0.7');
    expect(existsSync(join(dir, KEEP))).toBe(false);
    expect((await run(file, {}, { check: true })).code).toBe(EXIT.ok);
  });

  it('abort: nothing is written, exit 3', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, SSH, mine);
    editFile(dir, 'lab.yaml', moveNode03('10.0.0.7'));
    const before = snapshotTree(dir, true);
    const s = script('abort');
    const r = await run(file, { interactive: true, ask: s.ask });
    expect(r.code).toBe(EXIT.conflict);
    expect(snapshotTree(dir, true)).toEqual(before);
  });

  it('show diff prints what overwrite would change, then asks again; several files are asked one by one', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, SSH, mine);
    editFile(dir, 'laptop/hosts', (t) => `${t}10.0.0.99 extra\n`);
    const s = script('diff', 'keep', 'keep');
    const r = await run(file, { interactive: true, ask: s.ask });
    expect(r.code).toBe(EXIT.ok);
    expect(s.asked).toEqual(['laptop/hosts', 'laptop/hosts', SSH]);
    expect(r.output).toContain('--- a/laptop/hosts');
    expect(r.output).toMatch(/^-10\.0\.0\.99 extra$/m);
    expect(readFileSync(join(dir, KEEP), 'utf8')).toBe(`laptop/hosts\n${SSH}\n`); // sorted, one a line
  });

  it('--force overwrites a kept file and forgets it', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, SSH, mine);
    await run(file, { interactive: true, ask: script('keep').ask });
    expect(readFileSync(join(dir, KEEP), 'utf8')).toBe(`${SSH}\n`);
    expect((await run(file, {}, { force: true })).code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, SSH), 'utf8')).not.toContain('Host extra');
    expect(existsSync(join(dir, KEEP))).toBe(false);
    // edited again later: a conflict again (asked, or exit 3 without a terminal)
    editFile(dir, SSH, mine);
    expect((await run(file)).code).toBe(EXIT.conflict);
  });

  it('without a terminal a conflict stops as before (exit 3, nothing written, never asked)', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, SSH, mine);
    const before = snapshotTree(dir, true);
    const s = script();
    const r = await run(file, { interactive: false, ask: s.ask });
    expect(r.code).toBe(EXIT.conflict);
    expect(s.asked).toEqual([]);
    expect(snapshotTree(dir, true)).toEqual(before);
  });

  it('a line added to .labgen/keep by hand works the same; --dry-run shows a kept file without a diff', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, SSH, mine);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, KEEP), `# mine\n${SSH}\n`);
    const dry = await run(file, {}, { dryRun: true });
    expect(dry.output).toMatch(/kept\s+laptop\/ssh_config/);
    expect(dry.output).not.toContain('a/laptop/ssh_config');
    expect((await run(file, {}, { check: true })).code).toBe(EXIT.ok);
    expect((await run(file)).code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, KEEP), 'utf8')).toBe(`# mine\n${SSH}\n`); // the same set: left as the user wrote it
  });

  it('a kept file the user puts back as generated is no longer kept', async () => {
    const { dir, file } = lab();
    await run(file);
    const generated = readFileSync(join(dir, SSH), 'utf8');
    editFile(dir, SSH, mine);
    await run(file, { interactive: true, ask: script('keep').ask });
    editFile(dir, SSH, () => generated);
    editFile(dir, 'lab.yaml', moveNode03('10.0.0.7')); // labgen's version moves on: an ordinary update
    const r = await run(file);
    expect(r.code).toBe(EXIT.ok);
    expect(r.output).toMatch(/update\s+laptop\/ssh_config/);
    expect(existsSync(join(dir, KEEP))).toBe(false);
  });

  it('an edited orphan: keep leaves it in place and labgen stops tracking it; remove deletes it', async () => {
    for (const [answer, stays] of [
      ['keep', true],
      ['overwrite', false],
    ] as const) {
      const { dir, file } = lab();
      await run(file);
      editFile(dir, 'lab.yaml', (t) => t.replace('count: 3', 'count: 2'));
      editFile(dir, 'provision/kubeadm/kv-worker-2.yaml', (t) => `${t}# tuned\n`);
      const r = await run(file, { interactive: true, ask: script(answer).ask });
      expect(r.code).toBe(EXIT.ok);
      expect(existsSync(join(dir, 'provision/kubeadm/kv-worker-2.yaml'))).toBe(stays);
      expect(readFileSync(join(dir, '.labgen/manifest.json'), 'utf8')).not.toContain('kv-worker-2');
      expect(existsSync(join(dir, KEEP))).toBe(false);
      expect((await run(file, {}, { check: true })).code).toBe(EXIT.ok);
    }
  });
});

describe('keep.ts', () => {
  const d = (path: string, action: Decision['action'], spec = true): Decision => ({
    path,
    action,
    ...(spec ? { spec: { path, contents: '', mode: 0o644, kind: 'doc' as const } } : {}),
  });

  it('parses one path a line, skipping blanks and comments; serializes sorted, unique, or no file at all', () => {
    expect([...parseKeep('# c\nb\n\n a \nb\n')]).toEqual(['b', 'a']);
    expect(serializeKeep(['b', 'a', 'b'])).toBe('a\nb\n');
    expect(serializeKeep([])).toBeUndefined();
  });

  it('turns listed conflicts into kept; keeps lines of kept and identical files, drops the rest', () => {
    const ds = [d('a', 'conflict'), d('b', 'conflict'), d('c', 'identical'), d('e', 'update'), d('f', 'conflict', false)];
    const keep = new Set(['a', 'c', 'e', 'f', 'gone']);
    const out = withKept(ds, keep);
    expect(out.map((x) => x.action)).toEqual(['kept', 'conflict', 'identical', 'update', 'conflict']);
    expect(nextKeep(out, keep)).toEqual(['a', 'c']);
  });
});
