import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { snapshotTree } from '../support/tree.js';
import { assertBuilt, labgen } from '../workflow/support.js';

/**
 * The machine refuses, for real: the lab folder on a tmpfs the test mounts, too small for the
 * lab (ENOSPC) or mounted read-only (EROFS). labgen names the path and the cause, prints no
 * stack, exits 1, and leaves the folder as it was: the secrets a run makes are part of its
 * transaction, so a full disk does not leave them behind while the lab files roll back.
 */

const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) {
    execFileSync('umount', [m]);
    rmdirSync(m);
  }
});

/** A tmpfs of `size` at a new folder, holding a copy of the seed lab's lab.yaml. */
function tmpfsLab(size: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'labgen-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'labgen-test', dir]);
  mounts.push(dir);
  const lab = join(dir, 'lab');
  mkdirSync(lab);
  copyFileSync(join('labs', 'rpi-slurm', 'lab.yaml'), join(lab, 'lab.yaml'));
  return { dir, file: join(lab, 'lab.yaml') };
}

/** What the user sees: one message naming a path in the lab folder and the cause; no stack, not "a bug". */
function expectClearFailure(r: { code: number; stderr: string }, labDir: string, cause: RegExp): void {
  expect(r.code).toBe(EXIT.failure);
  expect(r.stderr).toMatch(cause);
  expect(r.stderr).toContain(labDir);
  expect(r.stderr).not.toMatch(/a bug|\n\s+at \S+ \(|Error:/);
}

describeE2e('a full disk and a read-only lab folder (tmpfs mounted by the test)', { root: true, commands: ['mount', 'umount'] }, () => {
  it('ENOSPC while writing: exit 1 naming the path and the cause; nothing written, not even the secrets', () => {
    assertBuilt();
    const { dir, file } = tmpfsLab('256k'); // the seed lab is ~1 MB of files
    const before = snapshotTree(dir);
    const r = labgen(['generate', '--lab', file]);
    expectClearFailure(r, join(dir, 'lab'), /no space left on the device \(ENOSPC\)/);
    expect(r.stderr).toContain('nothing was changed');
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('a read-only lab folder: exit 1 naming the path and the cause, no stack', () => {
    assertBuilt();
    const { dir, file } = tmpfsLab('4m');
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    const r = labgen(['generate', '--lab', file]);
    expectClearFailure(r, join(dir, 'lab'), /the file system is read-only \(EROFS\)/);
  });

  it('a generated lab whose disk fills up on regenerate: every file stays as it was', () => {
    assertBuilt();
    const { dir, file } = tmpfsLab('8m');
    expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
    // a change that rewrites many files, then the disk filled up
    execFileSync('sed', ['-i', 's/memory: 4096/memory: 6144/; s/10.0.0.4,/10.0.0.7,/', file]);
    execFileSync('sh', ['-c', `dd if=/dev/zero of=${join(dir, 'filler')} bs=64k 2>/dev/null || true`]);
    const before = snapshotTree(join(dir, 'lab'));
    const r = labgen(['generate', '--lab', file]);
    expectClearFailure(r, join(dir, 'lab'), /no space left on the device \(ENOSPC\)/);
    expect(snapshotTree(join(dir, 'lab'))).toEqual(before);
  });
});

describeE2e('a full disk under labgen image (tmpfs mounted by the test)', { root: true, commands: ['mount', 'umount', 'xz', 'sfdisk', 'mkfs.vfat', 'mke2fs', 'mcopy', 'debugfs'] }, () => {
  let work = '';
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'labgen-image-full-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("ENOSPC while an .img.xz is decompressed: exit 1 naming the step and the disk's cause (not the download's), nothing left", () => {
    assertBuilt();
    // a base with 48 MiB of data, for an output folder on a 16 MiB tmpfs
    const img = join(work, 'bookworm.img');
    execFileSync(join(REPO_ROOT, 'test/image/make-base.sh'), [img, 'bookworm', '--size', '128', '--data', '48']);
    execFileSync('xz', ['-1', '-T0', img]);
    const labDir = join(work, 'lab');
    mkdirSync(labDir);
    writeFileSync(join(labDir, 'lab.yaml'), readFileSync(join(REPO_ROOT, 'labs/minimal/lab.yaml'), 'utf8').replace('os: bullseye', 'os: bookworm'));
    expect(labgen(['generate', '--lab', join(labDir, 'lab.yaml')]).code).toBe(EXIT.ok);
    const { dir } = tmpfsLab('16m');
    const out = join(dir, 'images');
    const r = labgen(['image', 'pi-a', '--base', `${img}.xz`, '--lab', join(labDir, 'lab.yaml'), '--out', out]);
    expect(r.code, r.stderr).toBe(EXIT.failure);
    expect(r.stderr).toMatch(/decompress the base image/);
    expect(r.stderr).toMatch(/No space left on device/);
    expect(r.stderr).not.toMatch(/cannot be decompressed|download it again|a bug|\n\s+at \S+ \(/);
    expect(existsSync(out)).toBe(false); // the output folder it made, and the half-written image in it, gone
    expect(readdirSync(dir)).toEqual(['lab']);
  });
});
