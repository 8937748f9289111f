/**
 * Every shell script labgen writes, anywhere in the lab folder (provision/, pis/, k8s/, the disk
 * script in a Pi's rootfs), passes real shellcheck: found by shebang, not by name, so a new
 * script cannot slip past. Both example labs, and each Raspberry Pi OS release.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { planLab, writeFiles } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { run } from '../support/test-hosts.js';

const VARIANTS = [
  ['rpi-slurm (bookworm)', 'labs/rpi-slurm/lab.yaml', {}],
  ['rpi-slurm on trixie', 'labs/rpi-slurm/lab.yaml', { pis: { os: 'trixie' } }],
  ['minimal (bullseye)', 'labs/minimal/lab.yaml', {}],
] as const;

const isShell = (text: string) => /^#!.*\b(ba|da)?sh\b/.test(text);

describeE2e('shellcheck -S warning on every generated shell script', { commands: ['shellcheck'] }, () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it.each(VARIANTS)('%s', async (_name, file, overrides) => {
    const scripts = planLab(file, overrides).files.filter((f) => isShell(f.contents));
    expect(scripts.length).toBeGreaterThan(5);
    const dir = await mkdtemp(join(tmpdir(), 'labgen-shellcheck-'));
    dirs.push(dir);
    await writeFiles(dir, scripts);
    const r = await run('shellcheck', ['-S', 'warning', '-f', 'gcc', ...scripts.map((s) => join(dir, s.path))]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const s of scripts) expect(s.mode & 0o111, `${s.path} is executable`).not.toBe(0);
  });
});
