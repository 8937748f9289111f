import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { readZip } from '../export/zip-reader.js';
import { editFile, labDirFrom, removeDir, snapshotTree } from '../support/tree.js';
import { assertBuilt, labgen } from './support.js';

/**
 * A lab carried without its secrets must not get a new identity without a word: the Pis and VMs
 * know the old keys. The manifest records which secrets labgen made; when they are gone,
 * generate (and push, status: they plan the same way) stop with exit 2 naming them and the two
 * ways on, and write nothing. `--new-secrets` makes a new identity, saying what it costs.
 */

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function generated(): { dir: string; file: string } {
  assertBuilt();
  const dir = labDirFrom('rpi-slurm');
  dirs.push(dir);
  const file = join(dir, 'lab.yaml');
  expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
  return { dir, file };
}

/** Unzip `zip` into a new folder (the zip reader the export tests use). */
function unzip(zip: string): string {
  const to = mkdtempSync(join(dirname(zip), 'labgen-unzipped-'));
  dirs.push(to);
  for (const e of readZip(zip)) {
    const path = join(to, e.name);
    if (e.dir) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, e.data, { mode: e.mode || 0o644 });
    }
  }
  return to;
}

describe('a lab folder without the secrets it was made with', () => {
  it('export without --with-secrets, unzipped elsewhere: generate stops (exit 2), names what is missing and both ways on, writes nothing', () => {
    const { dir, file } = generated();
    const zip = join(dir, '..', `${dir.split('/').pop()}-export.zip`);
    dirs.push(zip);
    expect(labgen(['export', '--lab', file, '--out', zip]).code).toBe(EXIT.ok);
    const elsewhere = unzip(zip);
    expect(existsSync(join(elsewhere, '.labgen/secrets'))).toBe(false);
    const before = snapshotTree(elsewhere);

    for (const args of [['generate'], ['generate', '--check'], ['generate', '--dry-run'], ['status']]) {
      const r = labgen([...args, '--lab', join(elsewhere, 'lab.yaml')]);
      expect(r.code, args.join(' ')).toBe(EXIT.badInput);
      expect(r.stderr).toContain("the lab's secrets are missing: .labgen/secrets/");
      for (const name of ['id_ed25519', 'munge.key', 'kubeadm-token', 'hostkeys/node01/ssh_host_ed25519_key']) expect(r.stderr).toContain(`.labgen/secrets/${name}`);
      expect(r.stderr).toContain('labgen export --with-secrets');
      expect(r.stderr).toContain('labgen generate --new-secrets');
      expect(r.stderr).not.toMatch(/a bug|\n\s+at /);
    }
    expect(snapshotTree(elsewhere)).toEqual(before);
  });

  it('with the secrets carried (--with-secrets) it is simply up to date', () => {
    const { dir, file } = generated();
    const zip = join(dir, '..', `${dir.split('/').pop()}-secrets.zip`);
    dirs.push(zip);
    expect(labgen(['export', '--lab', file, '--out', zip, '--with-secrets']).code).toBe(EXIT.ok);
    const elsewhere = unzip(zip);
    const r = labgen(['generate', '--check', '--lab', join(elsewhere, 'lab.yaml')]);
    expect(r.stdout).toMatch(/^up to date: /m);
    expect(r.code).toBe(EXIT.ok);
  });

  it('--new-secrets makes a new identity, says what it costs, and re-pins the Pis', () => {
    const { dir, file } = generated();
    const oldKey = readFileSync(join(dir, '.labgen/secrets/id_ed25519.pub'), 'utf8');
    const oldPins = readFileSync(join(dir, '.labgen/known_hosts'), 'utf8');
    rmSync(join(dir, '.labgen/secrets'), { recursive: true });
    const r = labgen(['generate', '--new-secrets', '--lab', file]);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.stderr).toMatch(/--new-secrets: a new identity replaces .*id_ed25519.*every Pi must be flashed again or re-adopted/);
    expect(readFileSync(join(dir, '.labgen/secrets/id_ed25519.pub'), 'utf8')).not.toBe(oldKey);
    const pins = readFileSync(join(dir, '.labgen/known_hosts'), 'utf8');
    // one pin a Pi, each the new key: no old pin is left to refuse the re-imaged Pi
    expect(pins.split('\n').filter((l) => l.startsWith('node01,'))).toHaveLength(1);
    for (const line of oldPins.split('\n').filter(Boolean)) expect(pins).not.toContain(line);
    expect(labgen(['generate', '--check', '--lab', file]).code).toBe(EXIT.ok);
  });

  it('one secret deleted by hand is refused the same way; a Pi added later just gets its own new host key', () => {
    const { dir, file } = generated();
    rmSync(join(dir, '.labgen/secrets/munge.key'));
    const r = labgen(['generate', '--lab', file]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain("the lab's secrets are missing: .labgen/secrets/munge.key");

    const other = generated();
    editFile(other.dir, 'lab.yaml', (s) => s.replace('  nodes:\n', '  nodes:\n    - { name: node09, ip: 10.0.0.79 }\n'));
    const added = labgen(['generate', '--lab', other.file]);
    expect(added.code, added.stderr).toBe(EXIT.ok);
    expect(existsSync(join(other.dir, '.labgen/secrets/hostkeys/node09/ssh_host_ed25519_key'))).toBe(true);
  });

  it('a manifest from before labgen recorded its secrets: the secrets it must have made are told all the same', () => {
    const { dir, file } = generated();
    const manifest = join(dir, '.labgen/manifest.json');
    const doc = JSON.parse(readFileSync(manifest, 'utf8')) as { secrets?: string[] };
    expect(doc.secrets).toContain('id_ed25519');
    delete doc.secrets;
    writeFileSync(manifest, `${JSON.stringify(doc, null, 2)}\n`);
    rmSync(join(dir, '.labgen/secrets'), { recursive: true });
    const r = labgen(['generate', '--lab', file]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain('.labgen/secrets/id_ed25519');
    expect(r.stderr).toContain('.labgen/secrets/hostkeys/node05/ssh_host_ed25519_key');
  });
});
