import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generate } from '../../generator/cli/generate.js';
import { openLabFolder } from '../../generator/lab-folder/open.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { apply, type FsOps, nextManifest, realFs } from '../../generator/writer/apply.js';
import { editFile, labDirFrom, removeDir, snapshotTree } from '../support/tree.js';

const dirs: string[] = [];
function lab(example = 'rpi-slurm'): { dir: string; file: string } {
  const dir = labDirFrom(example);
  dirs.push(dir);
  return { dir, file: join(dir, 'lab.yaml') };
}
afterEach(() => {
  dirs.splice(0).forEach(removeDir);
  vi.restoreAllMocks();
});

/** generate() prints a report; tests read what it returns and what is on disk. */
async function run(file: string, opts: { dryRun?: boolean; check?: boolean; force?: boolean } = {}) {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
  try {
    return { code: await generate({ lab: file, ...opts }), output: lines.join('') };
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
  }
}

async function conflictOf(p: Promise<unknown>): Promise<LabgenError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(LabgenError);
  return e as LabgenError;
}

describe('writer', () => {
  it('creates the lab folder, then a regenerate with no change writes nothing at all', async () => {
    const { dir, file } = lab();
    expect((await run(file)).code).toBe(EXIT.ok);
    const before = snapshotTree(dir, true);
    const again = await run(file);
    expect(again.output).toMatch(/^up to date: .* identical/m);
    expect(snapshotTree(dir, true)).toEqual(before); // same bytes, same inodes, same mtimes
    expect(openLabFolder(file).decisions.every((d) => d.action === 'identical')).toBe(true);
  });

  it('writes secrets once, 0600 in a 0700 folder with a .gitignore, and reuses them', async () => {
    const { dir, file } = lab();
    await run(file);
    const secrets = join(dir, '.labgen/secrets');
    expect(statSync(secrets).mode & 0o777).toBe(0o700);
    for (const f of ['id_ed25519', 'id_ed25519.pub', 'kubeadm-token']) expect(statSync(join(secrets, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(secrets, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    const token = readFileSync(join(secrets, 'kubeadm-token'), 'utf8');
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
    await run(file, { force: true });
    expect(readFileSync(join(secrets, 'kubeadm-token'), 'utf8')).toBe(token);
  });

  it('a hand-edited file is a conflict: exit 3, the file listed, nothing written', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, 'laptop/ssh_config', (s) => `${s}\nHost extra\n  HostName 10.0.0.99\n`);
    editFile(dir, 'lab.yaml', (s) => s.replace('10.0.0.4', '10.0.0.7'));
    const before = snapshotTree(dir, true);
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    const e = await conflictOf(generate({ lab: file }));
    expect(e.code).toBe(EXIT.conflict);
    expect(lines.join('')).toMatch(/conflict\s+laptop\/ssh_config\s+\(edited by hand\)/);
    expect(snapshotTree(dir, true)).toEqual(before);
  });

  it('--force overwrites a hand edit', async () => {
    const { dir, file } = lab();
    await run(file);
    const generated = readFileSync(join(dir, 'laptop/ssh_config'), 'utf8');
    editFile(dir, 'laptop/ssh_config', (s) => `${s}# mine\n`);
    expect((await run(file, { force: true })).code).toBe(EXIT.ok);
    expect(readFileSync(join(dir, 'laptop/ssh_config'), 'utf8')).toBe(generated);
    expect((await run(file, { check: true })).code).toBe(EXIT.ok);
  });

  it('a file labgen did not write is never overwritten (conflict)', async () => {
    const { dir, file } = lab();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'README.md'), 'my own notes\n');
    const e = await conflictOf(run(file));
    expect(e.code).toBe(EXIT.conflict);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('my own notes\n');
  });

  it('orphans are removed when unmodified, kept as a conflict when edited', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, 'lab.yaml', (s) => s.replace('count: 3', 'count: 1'));
    editFile(dir, 'provision/kubeadm/kv-worker-2.yaml', (s) => `${s}# tuned by hand\n`);
    const e = await conflictOf(run(file));
    expect(e.code).toBe(EXIT.conflict);
    expect(statSync(join(dir, 'provision/kubeadm/kv-worker-1.yaml')).isFile()).toBe(true);

    editFile(dir, 'provision/kubeadm/kv-worker-2.yaml', (s) => s.replace('# tuned by hand\n', ''));
    const { output } = await run(file);
    expect(output).toMatch(/remove\s+provision\/kubeadm\/kv-worker-1\.yaml/);
    const tree = snapshotTree(dir);
    // the removed workers' host keys stay in .labgen/secrets/ (an identity is never dropped silently)
    expect(Object.keys(tree).filter((p) => p.includes('kv-worker-') && !p.startsWith('.labgen/'))).toEqual(['provision/kubeadm/kv-worker-0.yaml']);
    expect(readFileSync(join(dir, '.labgen/manifest.json'), 'utf8')).not.toContain('provision/kubeadm/kv-worker-1');
  });

  it('--dry-run prints decisions and a unified diff and writes nothing', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, 'lab.yaml', (s) => s.replace('10.0.0.4', '10.0.0.7'));
    const before = snapshotTree(dir, true);
    const { code, output } = await run(file, { dryRun: true });
    expect(code).toBe(EXIT.ok);
    expect(output).toMatch(/update\s+laptop\/hosts/);
    expect(output).toContain('--- a/laptop/hosts');
    expect(output).toMatch(/^-10\.0\.0\.4 +node03\.home\.lab node03$/m);
    expect(output).toMatch(/^\+10\.0\.0\.7 +node03\.home\.lab node03$/m);
    expect(snapshotTree(dir, true)).toEqual(before);
  });

  it('--check exits 1 when out of date and 0 when up to date, writing nothing', async () => {
    const { dir, file } = lab();
    expect((await run(file, { check: true })).code).toBe(EXIT.failure);
    expect(snapshotTree(dir)).toEqual({ 'lab.yaml': expect.anything() });
    await run(file);
    expect((await run(file, { check: true })).code).toBe(EXIT.ok);
    editFile(dir, 'lab.yaml', (s) => s.replace('memory: 4096', 'memory: 6144'));
    expect((await run(file, { check: true })).code).toBe(EXIT.failure);
  });

  it('generating twice with the same lab.yaml and secrets gives byte-identical folders', async () => {
    const a = lab();
    const b = lab();
    await run(a.file);
    const { cpSync } = await import('node:fs');
    cpSync(join(a.dir, '.labgen/secrets'), join(b.dir, '.labgen/secrets'), { recursive: true });
    await run(b.file);
    expect(snapshotTree(b.dir)).toEqual(snapshotTree(a.dir));
  });
});

describe('apply is one transaction', () => {
  /** Real fs operations, except that operation number `failAt` throws. */
  function failingOps(failAt: number): { ops: FsOps; count: () => number } {
    let n = 0;
    const wrap =
      <A extends unknown[]>(f: (...a: A) => void) =>
      (...a: A) => {
        if (++n === failAt) throw new Error(`injected failure at fs operation ${n}`);
        f(...a);
      };
    const ops: FsOps = {
      writeFile: wrap(realFs.writeFile),
      rename: wrap(realFs.rename),
      unlink: wrap(realFs.unlink),
      mkdir: wrap(realFs.mkdir),
      chmod: wrap(realFs.chmod),
      link: wrap(realFs.link),
      rmdir: realFs.rmdir, // rollback's own steps do not fail
      discard: realFs.discard, // after commit: best effort by design
    };
    return { ops, count: () => n };
  }

  it('a failure injected at every step of an update leaves the tree exactly as before', async () => {
    const { dir, file } = lab();
    await run(file);
    // an update that creates, updates and removes files, in new and existing folders
    // and a new Pi, whose host key (a secret) and known_hosts pin are made in the same transaction
    editFile(dir, 'lab.yaml', (s) =>
      s.replace('count: 3', 'count: 2').replace('10.0.0.4', '10.0.0.7').replace('kv-master-0', 'kv-cp').replace('  nodes:\n', '  nodes:\n    - { name: node09, ip: 10.0.0.79 }\n'),
    );
    const p = openLabFolder(file);
    const manifest = nextManifest(p.decisions, p.manifest, p.secrets.names);
    const meta = p.secrets.pending();
    expect(meta.map((m) => m.path)).toContain('.labgen/secrets/hostkeys/node09/ssh_host_ed25519_key');
    expect(new Set(p.decisions.map((d) => d.action))).toEqual(new Set(['create', 'update', 'remove', 'identical']));

    const dry = failingOps(Number.POSITIVE_INFINITY);
    const before = snapshotTree(dir);
    // count the operations of a successful apply on a copy, then fail at each of them in turn
    const { cpSync, mkdtempSync } = await import('node:fs');
    const copy = mkdtempSync(join(dir, '..', 'labgen-copy-'));
    dirs.push(copy);
    cpSync(dir, copy, { recursive: true });
    apply(copy, openLabFolder(join(copy, 'lab.yaml')).decisions, manifest, dry.ops, { meta });
    const total = dry.count();
    expect(total).toBeGreaterThan(10);

    for (let failAt = 1; failAt <= total; failAt++) {
      const { ops } = failingOps(failAt);
      expect(() => apply(dir, p.decisions, manifest, ops, { meta })).toThrow(`injected failure at fs operation ${failAt}`);
      expect(snapshotTree(dir)).toEqual(before);
    }
    // and without a failure it completes, and the result is up to date
    apply(dir, p.decisions, manifest, realFs, { meta });
    const after = openLabFolder(file);
    expect(after.decisions.every((d) => d.action === 'identical')).toBe(true);
    expect(after.secrets.missing).toEqual([]);
  });

  it('on a file system without hard links (link fails with EPERM, as on FAT) old files are moved aside instead: the same result', async () => {
    const { dir, file } = lab();
    await run(file);
    editFile(dir, 'lab.yaml', (s) => s.replace('count: 3', 'count: 2').replace('10.0.0.4', '10.0.0.7'));
    let links = 0;
    const noLinks: FsOps = {
      ...realFs,
      link: () => {
        links++;
        throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
      },
    };
    const p = openLabFolder(file);
    apply(dir, p.decisions, nextManifest(p.decisions, p.manifest, p.secrets.names), noLinks, { meta: p.secrets.pending() });
    expect(links).toBe(1); // asked once, then remembered for the rest of the run
    const after = openLabFolder(file);
    expect(after.decisions.every((d) => d.action === 'identical')).toBe(true);
    expect(after.debris).toEqual([]);
  });
});
