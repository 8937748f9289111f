import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLabYaml } from '../../generator/model/load.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import { plan } from '../../generator/plan/index.js';
import { decide } from '../../generator/writer/decide.js';
import { FIXED_SECRETS } from '../support/fixed-secrets.js';
import { removeDir } from '../support/tree.js';
import { sha256 } from '../../generator/common/text.js';

/**
 * Issue 10, bug 4: a 10,000-Pi lab folder is 4 GB (every Pi's /etc/hosts lists every host), and
 * labgen held all of it three times (the plan's text, the disk's bytes and text per decision).
 * The plan makes a Pi's /etc/hosts when it is read, and a decision keeps no copy of the file on
 * disk, except for a conflict (its diff and prompt show it as it was).
 */

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

function labDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'labgen-memory-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  return dir;
}

const spec = (path: string, contents: string): FileSpec => ({ path, contents, mode: 0o644, kind: 'doc' });

describe('decide keeps no copy of the files on disk', () => {
  it("an identical, updated or removed file's current text is read from disk when asked, not held", () => {
    const dir = labDir({ same: 'same\n', old: 'old\n', orphan: 'orphan\n' });
    const manifest = new Map([
      ['old', { sha256: sha256('old\n'), mode: 0o644 }],
      ['orphan', { sha256: sha256('orphan\n'), mode: 0o644 }],
    ]);
    const ds = decide(dir, [spec('same', 'same\n'), spec('old', 'new\n'), spec('made', 'made\n')], manifest);
    expect(ds.map((d) => [d.path, d.action, d.current])).toEqual([
      ['made', 'create', undefined],
      ['old', 'update', 'old\n'],
      ['orphan', 'remove', 'orphan\n'],
      ['same', 'identical', 'same\n'],
    ]);
    // the text is not in the decision: it is what the file holds when asked
    for (const path of ['same', 'old', 'orphan']) writeFileSync(join(dir, path), `${path} later\n`);
    expect(ds.map((d) => d.current)).toEqual([undefined, 'old later\n', 'orphan later\n', 'same later\n']);
  });

  it('a conflict keeps the text it was decided on: the prompt, the diff and a kept file show that', () => {
    const dir = labDir({ edited: 'edited by hand\n', theirs: 'not labgen’s\n', gone: 'orphan, edited\n' });
    const manifest = new Map([
      ['edited', { sha256: sha256('as labgen wrote it\n'), mode: 0o644 }],
      ['gone', { sha256: sha256('orphan\n'), mode: 0o644 }],
    ]);
    const ds = decide(dir, [spec('edited', 'new\n'), spec('theirs', 'new\n')], manifest);
    for (const path of ['edited', 'theirs', 'gone']) writeFileSync(join(dir, path), 'later\n');
    expect(ds.map((d) => [d.path, d.action, d.current])).toEqual([
      ['edited', 'conflict', 'edited by hand\n'],
      ['gone', 'conflict', 'orphan, edited\n'],
      ['theirs', 'conflict', 'not labgen’s\n'],
    ]);
    // a spread (keep, --force) copies the text as it is
    expect({ ...ds[0]! }.current).toBe('edited by hand\n');
  });
});

/** n Pis on a /16, as bench/generate.mjs makes them */
function bigLab(n: number): string {
  const name = (i: number) => `pi${String(i).padStart(String(n - 1).length, '0')}`;
  const nodes = Array.from({ length: n }, (_, i) => `    - { name: ${name(i)}, ip: 10.10.${1 + Math.floor(i / 250)}.${1 + (i % 250)}, roles: [compute] }`);
  return `version: 1
name: biglab
domain: big.lab
network: { subnet: 10.10.0.0/16, gateway: 10.10.0.1, dhcpRange: 10.10.200.1-10.10.200.250 }
cluster:
  controlPlane: { name: cp, ip: 10.10.0.10 }
  workers: { count: 0 }
pis:
  nodes:
${nodes.join('\n')}
`;
}

describe('the plan of a big lab', () => {
  it("holds one hosts block, not one per Pi: each Pi's /etc/hosts is made when read", () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const lab = parseLabYaml(bigLab(2000));
    gc();
    const before = process.memoryUsage().heapUsed;
    const files = plan(lab, FIXED_SECRETS);
    gc();
    const held = process.memoryUsage().heapUsed - before;
    const hosts = files.filter((f) => /^pis\/[^/]+\/rootfs\/etc\/hosts$/.test(f.path));
    expect(hosts).toHaveLength(2000);
    const copies = hosts.reduce((n, f) => n + f.contents.length, 0);
    // 2,000 Pis: 2,000 copies of a 2,000-line block would be 140 MB
    expect(copies).toBeGreaterThan(100 * 2 ** 20);
    expect(held).toBeLessThan(copies / 3);
    // made when read, the same text every time
    const pi = hosts[7]!;
    expect(pi.contents).toBe(pi.contents);
    expect(pi.contents.startsWith('127.0.0.1\tlocalhost\n')).toBe(true);
    expect(pi.contents).toContain(`127.0.1.1\t${pi.host}.big.lab ${pi.host}\n\n# BEGIN labgen\n`);
    expect(files).toContain(pi); // still retained: the measure above is of a live plan
  });
});
