import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { labDirFrom, removeDir, snapshotTree } from '../support/tree.js';
import { assertBuilt, labgen } from './support.js';

/**
 * Taking things out of a lab: a regenerate must leave exactly the tree a fresh generate of the
 * new lab.yaml (same secrets) makes: no file and no empty folder of labgen's left behind, exit 0,
 * and the impact printed. The secrets stay (a Pi's host key outlives its files: never silently
 * replaced), so .labgen/ is compared apart.
 */

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

type Lab = { pis: { nodes: { name: string; ip: string; roles?: string[] }[] }; [k: string]: unknown };

/** The minimal lab with `extra` more compute Pis (pi-c, pi-d, …) beside pi-a and pi-b. */
function minimalWith(extra: number): Lab {
  const lab = yaml.load(readFileSync('labs/minimal/lab.yaml', 'utf8')) as Lab;
  for (let i = 0; i < extra; i++) lab.pis.nodes.push({ name: `pi-x${i + 1}`, ip: `192.168.50.${30 + i}` });
  return lab;
}

function labFolder(lab: unknown): string {
  const dir = labDirFrom('minimal');
  dirs.push(dir);
  writeFileSync(join(dir, 'lab.yaml'), yaml.dump(lab));
  return dir;
}

const withoutLabgen = (tree: Record<string, unknown>) => Object.fromEntries(Object.entries(tree).filter(([p]) => !p.startsWith('.labgen/')));

/** generate `before`, change lab.yaml to `after`, regenerate: the result against a fresh generate of `after`. */
function shrink(before: unknown, after: unknown) {
  assertBuilt();
  const dir = labFolder(before);
  expect(labgen(['generate', '--lab', join(dir, 'lab.yaml')]).code).toBe(EXIT.ok);
  writeFileSync(join(dir, 'lab.yaml'), yaml.dump(after));
  const run = labgen(['generate', '--lab', join(dir, 'lab.yaml')]);

  const fresh = labFolder(after);
  cpSync(join(dir, '.labgen', 'secrets'), join(fresh, '.labgen', 'secrets'), { recursive: true });
  expect(labgen(['generate', '--lab', join(fresh, 'lab.yaml')]).code).toBe(EXIT.ok);
  return { dir, run, tree: withoutLabgen(snapshotTree(dir)), expected: withoutLabgen(snapshotTree(fresh)) };
}

describe('removing from a lab leaves exactly the new tree', () => {
  it.each([1, 2, 20])('%i Pi(s) removed: no file or folder of theirs stays, exit 0, the impact printed', (n) => {
    const before = minimalWith(n);
    const after = minimalWith(0);
    const { run, tree, expected } = shrink(before, after);
    expect(run.stderr).not.toMatch(/a bug|ENOENT/);
    expect(run.code).toBe(EXIT.ok);
    expect(tree).toEqual(expected);
    expect(Object.keys(tree).filter((p) => p.startsWith('pis/pi-x'))).toEqual([]);
    expect(run.stdout).toMatch(/^wrote \d+, removed \d+:/m);
    expect(run.stdout).toContain(`pi-x${n} left the lab`);
    expect(run.stdout).toMatch(/^next: /m);
  });

  it('a service removed (monitoring): its k8s/ folder is gone, with its subfolders', () => {
    const before = yaml.load(readFileSync('labs/rpi-slurm/lab.yaml', 'utf8')) as { services: Record<string, unknown> };
    const after = structuredClone(before);
    expect(after.services.monitoring).toBeDefined();
    delete after.services.monitoring;
    const { run, tree, expected } = shrink(before, after);
    expect(run.code).toBe(EXIT.ok);
    expect(tree).toEqual(expected);
    expect(Object.keys(tree).filter((p) => p.startsWith('k8s/monitoring'))).toEqual([]);
  });

  it('every worker removed: their kubeadm configs go and the VM group says so', () => {
    const before = yaml.load(readFileSync('labs/rpi-slurm/lab.yaml', 'utf8')) as { cluster: { workers: { count: number } } };
    const after = structuredClone(before);
    after.cluster.workers.count = 0;
    const { run, tree, expected } = shrink(before, after);
    expect(run.code).toBe(EXIT.ok);
    expect(tree).toEqual(expected);
    expect(Object.keys(tree).filter((p) => p.includes('kv-worker'))).toEqual([]);
    expect(run.stdout).toContain('labgen up (kubectl delete node kv-worker-1)');
  });
});
