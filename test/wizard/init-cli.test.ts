import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUESTIONS } from '../../generator/wizard/questions.js';
import { editFile, snapshotTree } from '../support/tree.js';
import { cleanupTemp, ensureBuilt, loadYaml, ROOT, runCli, schemaLine, SEED_LAB, tempDir } from './support.js';

/**
 * `labgen init` through the built CLI, without a terminal (stdin is a pipe): --yes, flags,
 * the errors, and that an existing lab.yaml is never replaced without --force.
 */

beforeAll(ensureBuilt, 180_000);
afterAll(cleanupTemp);

const STACK_LINE = /^\s+at .*:\d+:\d+\)?$/m;

describe('labgen init without a terminal', () => {
  it('--yes writes the seed lab and its lab folder; `generate --check` finds it up to date', async () => {
    const dir = join(tempDir(), 'homelab');
    const run = await runCli(['init', dir, '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const text = readFileSync(join(dir, 'lab.yaml'), 'utf8');
    expect(loadYaml(join(dir, 'lab.yaml'))).toEqual(loadYaml(SEED_LAB));
    // the first line points editors at the lab folder's own copy of the JSON Schema
    const ref = schemaLine(text);
    expect(ref).toBe('lab.schema.json');
    expect(readFileSync(join(dir, ref!), 'utf8')).toBe(readFileSync(join(ROOT, 'schema/lab.schema.json'), 'utf8'));
    for (const f of ['README.md', 'Vagrantfile', 'slurm/slurm.conf', 'pis/node01/setup.sh', '.labgen/manifest.json']) expect(existsSync(join(dir, f))).toBe(true);
    const check = await runCli(['generate', '--check', '--lab', join(dir, 'lab.yaml')]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^up to date: /);
  });

  it('flags answer their questions; every default address follows --subnet', async () => {
    const dir = join(tempDir(), 'mylab');
    const run = await runCli(['init', dir, '--yes', '--pis', '3', '--subnet', '192.168.50.0/24', '--os', 'trixie', '--name', 'mylab']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lab = loadYaml(join(dir, 'lab.yaml')) as { name: string; pis: { os: string; nodes: { ip: string }[] }; cluster: { controlPlane: { ip: string } } };
    expect(lab.name).toBe('mylab');
    expect(lab.pis.os).toBe('trixie');
    expect(lab.pis.nodes.map((n) => n.ip)).toEqual(['192.168.50.2', '192.168.50.3', '192.168.50.4']);
    expect(lab.cluster.controlPlane.ip).toBe('192.168.50.210');
    expect((await runCli(['generate', '--check', '--lab', join(dir, 'lab.yaml')])).code).toBe(0);
  });

  it('without --yes, missing answers are exit 2 listing the flags to give; nothing is written', async () => {
    const dir = join(tempDir(), 'lab');
    const run = await runCli(['init', dir, '--name', 'lab1', '--subnet', '192.168.50.0/24']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^labgen: no terminal to ask on, and these questions have no answer:/);
    for (const q of QUESTIONS.filter((x) => x.key !== 'name' && x.key !== 'subnet')) expect(run.stderr).toMatch(new RegExp(`^  --${q.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} <`, 'm'));
    expect(run.stderr).not.toMatch(/^  --name /m);
    expect(run.stderr).toMatch(/^hint: .*--yes/m);
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(dir)).toBe(false);
  });

  it('an invalid flag value is exit 2 naming the flag and the reason; nothing is written', async () => {
    const dir = join(tempDir(), 'lab');
    for (const [args, said] of [
      [['--subnet', '10.0.0.300/24'], ['--subnet 10.0.0.300/24', 'network.subnet: must be an IPv4 subnet in CIDR form']],
      [['--os', 'jessie'], ['--os jessie', '"jessie": choose from bullseye, bookworm, trixie']],
      [['--pi-ip', '10.0.0.1'], ['--pi-ip 10.0.0.1', 'pis.nodes[0].ip: 10.0.0.1 is already used by network.gateway']],
      [['--workers', 'three'], ['--workers "three": must be a whole number']],
    ] as const) {
      const run = await runCli(['init', dir, '--yes', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      for (const s of said) expect(run.stderr).toContain(s);
      expect(run.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(dir)).toBe(false);
    }
    // without --yes too: a bad flag stops init before any question
    const run = await runCli(['init', dir, '--os', 'jessie']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--os jessie');
  });

  it('an existing lab.yaml is a conflict (exit 3) and nothing changes; --force replaces it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lab.yaml'), '# mine\nversion: 1\n');
    const before = snapshotTree(dir, true);
    const run = await runCli(['init', dir, '--yes']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${join(dir, 'lab.yaml')} already exists; nothing was changed`);
    expect(run.stderr).toMatch(/^hint: .*--force/m);
    expect(snapshotTree(dir, true)).toEqual(before);

    const forced = await runCli(['init', dir, '--yes', '--force']);
    expect(forced.code).toBe(0);
    expect(loadYaml(join(dir, 'lab.yaml'))).toEqual(loadYaml(SEED_LAB));
  });

  it('--force over a lab folder with a hand-edited file: generate refuses (exit 3) and init puts lab.yaml back', async () => {
    const dir = tempDir();
    expect((await runCli(['init', dir, '--yes'])).code).toBe(0);
    editFile(dir, 'laptop/ssh_config', (s) => `${s}# mine\n`);
    const before = snapshotTree(dir);
    const run = await runCli(['init', dir, '--yes', '--force', '--name', 'other']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/conflict\s+laptop\/ssh_config/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('an existing empty folder is used', async () => {
    const dir = join(tempDir(), 'empty');
    mkdirSync(dir);
    expect((await runCli(['init', '--yes'], dir)).code).toBe(0);
    expect(existsSync(join(dir, 'lab.yaml'))).toBe(true);
  });
});
