/** What `labgen up` reports at the end (drivers/up/report.ts): where it failed, each place once. */
import { describe, expect, it } from 'vitest';
import { failedHosts, upReport } from '../../drivers/up/report.js';
import { planLab } from '../support/generated.js';
import type { UpPlan } from '../../drivers/up/plan.js';
import type { UpResult, VmResult } from '../../drivers/up/up.js';

const vm = (name: string, failed: boolean): VmResult => ({
  vm: name,
  before: 'running',
  did: [`vagrant provision ${name}`],
  why: [],
  ok: !failed,
  ms: 1,
  ...(failed ? { failure: { host: name, step: 'common', message: 'x' } } : {}),
});

const result = (vms: VmResult[], failures: UpResult['cluster']['failures']): UpResult => ({
  vms,
  cluster: { slot: 'cluster', did: [], ok: failures.length === 0, failures },
  plan: {} as UpPlan,
  notes: [],
  ok: false,
});

describe('labgen up: the report', () => {
  it('names where up failed: the VMs first, then the cluster (its own steps) or the VM or file a cluster step failed on, each once', () => {
    const r = result(
      [vm('kv-master-0', false), vm('kv-worker-0', true), vm('kv-worker-1', true)],
      [
        { host: 'cluster', step: 'k8s/apply.sh', message: 'x' },
        { host: 'kv-worker-1', step: 'common', message: 'the lab CA' },
        { host: 'kv-master-0', step: 'common', message: 'the lab CA' },
        { host: 'cluster', step: 'nodes Ready', message: 'y' },
        { host: '/home/u/.kube/config', step: 'merge-kubeconfig', message: 'z' },
      ],
    );
    expect(failedHosts(r)).toEqual(['kv-worker-0', 'kv-worker-1', 'the cluster', 'kv-master-0', '/home/u/.kube/config']);
    expect(failedHosts(result([vm('kv-master-0', false)], []))).toEqual([]);
  });

  it('a failed up: the table on stdout, where it failed and each failure on stderr, no endpoints; a finished one: the endpoints, nothing on stderr', () => {
    const { lab } = planLab('labs/minimal/lab.yaml', {});
    const failed = upReport(result([vm('k8s', true)], []), lab);
    expect(failed.out[0]).toBe('');
    expect(failed.out.slice(1, 4).map((l) => l.split(/\s+/)[0])).toEqual(['host', '-------', 'k8s']);
    expect(failed.err).toEqual(['labgen: up failed on k8s; the other VMs are as they were (labgen up again resumes)', '  k8s: failed at common: x']);
    expect(failed.out.join('\n')).not.toContain('Kubernetes API');
    const ok = upReport({ ...result([vm('k8s', false)], []), ok: true }, lab);
    expect(ok.err).toEqual([]);
    expect(ok.out).toContain('up: 1 VM(s) running, the cluster Ready');
    expect(ok.out.join('\n')).toContain('Kubernetes API');
  });
});
