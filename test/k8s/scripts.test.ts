/**
 * The scripts k8s/ ships: every shell script passes `shellcheck -S warning`; labgen's Slurm
 * exporter runs with python3 against stand-in sinfo/squeue (no slurmctld here: the stand-ins
 * print what Slurm 22.05 prints for these format strings) and against a failing sinfo.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { SLURM_OF_RELEASE } from '../../generator/plan/k8s/slurm-image.js';
import { generatedLabCache } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';

const exec = promisify(execFile);
const cache = generatedLabCache({ prefix: 'labgen-k8s-sh-' });
const dirs: string[] = [];
afterAll(async () => {
  await cache.cleanupAll();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describeE2e('shell scripts of k8s/', { commands: ['shellcheck'] }, () => {
  it.each(['labs/rpi-slurm/lab.yaml', 'labs/minimal/lab.yaml'])('%s: shellcheck -S warning', async (file) => {
    const g = await cache.get(file);
    const scripts = g.matching(/^k8s\/.*\.sh$/);
    expect(scripts.map((s) => s.path)).toContain('k8s/apply.sh');
    const out = await exec('shellcheck', ['-S', 'warning', '-f', 'gcc', ...scripts.map((s) => g.path(s.path))]).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? String(e),
    );
    expect(out).toBe('');
    for (const s of scripts) expect(s.mode, s.path).toBe(0o755);
  });
});

async function standIns(sinfo: string, squeue: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'labgen-k8s-slurm-'));
  dirs.push(dir);
  await writeFile(join(dir, 'sinfo'), sinfo);
  await writeFile(join(dir, 'squeue'), squeue);
  await chmod(join(dir, 'sinfo'), 0o755);
  await chmod(join(dir, 'squeue'), 0o755);
  return dir;
}

describeE2e('Slurm exporter (stand-in sinfo/squeue)', { commands: ['python3'] }, () => {
  it('counts nodes, CPUs and jobs by state', async () => {
    const g = await cache.get('labs/rpi-slurm/lab.yaml');
    const sinfo = [
      '#!/bin/sh',
      'case "$*" in',
      '  *"%N %T"*) printf "node02 idle\\nnode03 allocated\\nnode04 down*\\nnode05 drained~\\n" ;;',
      '  *%C*) echo "4/8/4/16" ;;',
      'esac',
    ].join('\n');
    const squeue = '#!/bin/sh\nprintf "RUNNING\\nPENDING\\nPENDING\\n"\n';
    const bin = await standIns(sinfo, squeue);
    const { stdout } = await exec('python3', [g.path('k8s/slurm/slurm-exporter.py'), '--once'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(stdout).toContain('slurm_up 1');
    for (const line of ['slurm_nodes{state="idle"} 1', 'slurm_nodes{state="allocated"} 1', 'slurm_nodes{state="down"} 1', 'slurm_nodes{state="drained"} 1', 'slurm_nodes{state="mixed"} 0'])
      expect(stdout).toContain(line);
    for (const line of ['slurm_cpus{state="allocated"} 4', 'slurm_cpus{state="idle"} 8', 'slurm_cpus{state="total"} 16'])
      expect(stdout).toContain(line);
    expect(stdout).toContain('slurm_jobs{state="pending"} 2');
    expect(stdout).toContain('slurm_jobs{state="running"} 1');
  });

  it('reports slurm_up 0 when sinfo fails (slurmctld down)', async () => {
    const g = await cache.get('labs/rpi-slurm/lab.yaml');
    const bin = await standIns('#!/bin/sh\necho "slurm_load_partitions: Unable to contact slurm controller" >&2\nexit 1\n', '#!/bin/sh\nexit 1\n');
    const { stdout } = await exec('python3', [g.path('k8s/slurm/slurm-exporter.py'), '--once'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(stdout).toContain('slurm_up 0');
  });
});

it('the slurmctld image is built from the Slurm Pis\' Debian release', async () => {
  const g = await cache.get('labs/rpi-slurm/lab.yaml');
  const dockerfile = g.file('k8s/slurm/Dockerfile').contents;
  expect(dockerfile).toMatch(/^FROM docker\.io\/library\/debian:12\.\d+-slim$/m);
  expect(dockerfile).toContain(`grep -q '^slurm ${SLURM_OF_RELEASE.bookworm.replace('.', '\\.')}\\.'`);
  const trixie = await cache.get('labs/rpi-slurm/lab.yaml', { pis: { os: 'trixie' } });
  expect(trixie.file('k8s/slurm/Dockerfile').contents).toMatch(/^FROM docker\.io\/library\/debian:13\.\d+-slim$/m);
});

it("apply.sh says the VMs' containerd trusts the lab CA only where there is a registry for it", async () => {
  const withRegistry = (await cache.get('labs/rpi-slurm/lab.yaml')).file('k8s/apply.sh').contents;
  expect(withRegistry).toMatch(/the VMs' containerd \(once provisioned again/);
  const without = (await cache.get('labs/rpi-slurm/lab.yaml', { services: { registry: { enabled: false } }, slurm: { controller: 'node02', ip: undefined } })).file('k8s/apply.sh').contents;
  expect(without).toContain('the lab CA is in .labgen/lab-ca.crt: import it into your browser');
  expect(without).not.toContain('containerd');
});
