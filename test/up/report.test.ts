/** What `labgen up` reports at the end (drivers/up/report.ts): where it failed, each place once. */
import { describe, expect, it } from 'vitest';
import { failedHosts } from '../../drivers/up/report.js';
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
});
