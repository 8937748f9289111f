import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { onPath } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { REPO_ROOT } from '../support/generated.js';
import { assertBuilt, labgen } from '../workflow/support.js';
import { readZip, type ZipEntry } from './zip-reader.js';

/**
 * `labgen export` through the built CLI: a zip of a generated seed lab (in <tmp>/homelab/, so
 * the default zip lands in <tmp>/homelab.zip), read back entry by entry.
 */

let root: string;
let dir: string;
let file: string;
beforeAll(() => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'labgen-export-'));
  dir = join(root, 'homelab');
  file = join(dir, 'lab.yaml');
  mkdirSync(dir);
  copyFileSync(join(REPO_ROOT, 'labs/rpi-slurm/lab.yaml'), file);
  expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
  // what a lab folder collects that must not travel
  mkdirSync(join(dir, '.vagrant/machines/kv-master-0/virtualbox'), { recursive: true });
  writeFileSync(join(dir, '.vagrant/machines/kv-master-0/virtualbox/private_key'), 'vagrant key\n');
  writeFileSync(join(dir, '.DS_Store'), 'x');
  writeFileSync(join(dir, 'k8s/.apply.sh.swp'), 'x');
  writeFileSync(join(dir, 'laptop/.hosts.labgen-tmp-4242'), 'x');
  writeFileSync(join(dir, 'old-export.zip'), 'x');
  mkdirSync(join(dir, 'images'));
  writeFileSync(join(dir, 'images/node01.img.xz'), 'x');
  // and what it may hold that should: the user's own notes
  writeFileSync(join(dir, 'NOTES.md'), 'my notes\n');
});
afterAll(() => removeDir(root));

/** Every regular file under `base`, relative, "/"-separated. */
function filesUnder(base: string, rel = ''): string[] {
  return readdirSync(join(base, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(base, p) : e.isFile() ? [p] : [];
  });
}

const names = (zip: ZipEntry[]) => zip.map((e) => e.name);
const SECRETS = '.labgen/secrets/';
/** labgen's copies of the secrets for kustomize: k8s/<folder>/secrets/ (their .gitignore included) */
const K8S_SECRETS = /^k8s\/[^/]+\/secrets\//;

/** Writes the zip's entries under `to`, with their modes (what unzip does). */
function extract(zip: ZipEntry[], to: string): void {
  for (const e of zip) {
    const target = join(to, e.name);
    if (e.dir) mkdirSync(target, { recursive: true, mode: e.mode });
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, e.data);
      chmodSync(target, e.mode);
    }
  }
}

describe('labgen export', () => {
  it('without --with-secrets: the lab folder minus secrets and junk, with the default name beside the folder', () => {
    const r = labgen(['export', '--lab', file]);
    expect(r.code).toBe(EXIT.ok);
    const out = join(root, 'homelab.zip');
    expect(r.stdout).toContain(`wrote ${out} (`);
    const zip = readZip(out);
    const listed = names(zip);
    expect(listed.filter((n) => n.startsWith(SECRETS))).toEqual([]);
    expect(filesUnder(dir).filter((p) => K8S_SECRETS.test(p)).length).toBeGreaterThan(4); // there were some to leave out
    expect(listed.filter((n) => K8S_SECRETS.test(n))).toEqual([]);
    expect(listed.filter((n) => /(^|\/)\.vagrant\/|\.DS_Store|\.swp$|labgen-tmp|\.zip$|\.img/.test(n))).toEqual([]);
    // everything else in the folder is there: lab.yaml, every generated file, .labgen/ metadata, the user's notes
    const expected = filesUnder(dir).filter(
      (p) => !p.startsWith(SECRETS) && !K8S_SECRETS.test(p) && !/^\.vagrant\/|\.DS_Store$|\.swp$|labgen-tmp|\.zip$|\.img\.xz$/.test(p),
    );
    expect(expected).toEqual(expect.arrayContaining(['lab.yaml', 'NOTES.md', '.labgen/manifest.json', 'pis/node03/setup.sh']));
    expect(listed.filter((n) => !n.endsWith('/')).sort()).toEqual(expected.sort());
    // and says what it left out
    expect(r.stdout).toMatch(/left out: \.labgen\/secrets\/ \(\d+ files: .*--with-secrets includes them\)/);
    expect(r.stdout).toMatch(/, k8s\/\*\/secrets\/ \(\d+ files: .*--with-secrets includes them\)/);
    expect(r.stdout).toMatch(/\.vagrant\/ \(Vagrant's machine state\)/);
  });

  it('with --with-secrets: every file of .labgen/secrets/ too, 0600 in a 0700 folder', () => {
    const out = join(root, 'with-secrets.zip');
    const r = labgen(['export', '--lab', file, '--with-secrets', '--out', out]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/keep the zip private/);
    const zip = readZip(out);
    const secrets = zip.filter((e) => e.name.startsWith(SECRETS) && !e.dir);
    expect(secrets.map((e) => e.name).sort()).toEqual(
      filesUnder(join(dir, SECRETS))
        .map((p) => `${SECRETS}${p}`)
        .sort(),
    );
    expect(secrets.map((e) => e.name)).toContain(`${SECRETS}id_ed25519`);
    expect(new Set(secrets.map((e) => e.mode))).toEqual(new Set([0o600]));
    expect(zip.find((e) => e.name === SECRETS)?.mode).toBe(0o700);
    // and the copies in k8s/<folder>/secrets/, 0600 as on disk (their .gitignore 0644)
    const copies = zip.filter((e) => K8S_SECRETS.test(e.name) && !e.dir);
    expect(copies.map((e) => e.name).sort()).toEqual(filesUnder(dir).filter((p) => K8S_SECRETS.test(p)).sort());
    for (const e of copies) expect([e.name, e.mode]).toEqual([e.name, e.name.endsWith('/.gitignore') ? 0o644 : 0o600]);
    expect(statSync(out).mode & 0o077).toBe(0); // the zip itself is private
  });

  it('is deterministic: a folder before its contents, names sorted, one fixed date; the same folder gives the same bytes', () => {
    const a = join(root, 'a.zip');
    const b = join(root, 'b.zip');
    expect(labgen(['export', '--lab', file, '--out', a]).code).toBe(EXIT.ok);
    expect(labgen(['export', '--lab', file, '--out', b]).code).toBe(EXIT.ok);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const zip = readZip(a);
    expect(new Set(zip.map((e) => e.dosTime)).size).toBe(1);
    // the order a sorted depth-first walk gives
    const walk = (entries: ZipEntry[], prefix: string): string[] => {
      const here = [...new Set(entries.map((e) => e.name.slice(prefix.length).split('/')[0]!))].sort();
      return here.flatMap((n) => {
        const inner = entries.filter((e) => e.name.startsWith(`${prefix}${n}/`) && e.name !== `${prefix}${n}/`);
        return inner.length ? [`${prefix}${n}/`, ...walk(inner, `${prefix}${n}/`)] : [`${prefix}${n}`];
      });
    };
    expect(names(zip)).toEqual(walk(zip, ''));
  });

  it('keeps modes (scripts stay executable) and bytes; with its secrets the copy is up to date elsewhere', () => {
    const out = join(root, 'carry.zip');
    expect(labgen(['export', '--lab', file, '--with-secrets', '--out', out]).code).toBe(EXIT.ok);
    const zip = readZip(out);
    expect(zip.find((e) => e.name === 'pis/node01/setup.sh')?.mode).toBe(0o755);
    expect(zip.find((e) => e.name === 'laptop/hosts.windows')?.mode).toBe(0o644);
    for (const e of zip.filter((x) => !x.dir)) expect([e.name, e.data.equals(readFileSync(join(dir, e.name)))]).toEqual([e.name, true]);

    const elsewhere = mkdtempSync(join(root, 'elsewhere-'));
    extract(zip, elsewhere);
    const check = labgen(['generate', '--lab', join(elsewhere, 'lab.yaml'), '--check']);
    expect(check.stdout).toMatch(/^up to date: /);
    expect(check.code).toBe(EXIT.ok);
  });

  it('a zip written inside the lab folder does not contain itself', () => {
    const out = join(dir, 'inside.zip');
    expect(labgen(['export', '--lab', file, '--out', out]).code).toBe(EXIT.ok);
    expect(names(readZip(out)).filter((n) => n.endsWith('.zip'))).toEqual([]);
  });

  it('no lab file: exit 2 with a hint', () => {
    const r = labgen(['export', '--lab', join(root, 'nowhere/lab.yaml')]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(/no lab file at .*\nhint: /);
  });

  it.skipIf(!onPath('python3'))("python3's zipfile reads it the same (a second reader)", () => {
    const out = join(root, 'homelab.zip');
    const py = spawnSync(
      'python3',
      ['-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint("\\n".join(z.namelist()))', out],
      { encoding: 'utf8' },
    );
    expect(py.status).toBe(0);
    expect(py.stdout.trim().split('\n')).toEqual(names(readZip(out)));
  });
});
