import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LABGEN_DIR } from '../../generator/common/layout.js';
import { JOIN_FILE } from '../../generator/plan/vm/kubeadm-config.js';
import { vmShare } from '../up/vm-share.js';
import type { Lab } from '../../generator/model/defaults.js';
import { onExistingHosts, type Vm, vms } from '../../generator/model/hosts.js';
import { pool } from '../base/pool.js';
import type { Progress } from '../base/progress.js';
import { ADMIN_KUBECONFIG } from '../up/kubeconfig.js';
import { readUpState, writeUpState } from '../up/state.js';
import { statesOrStop } from '../up/vagrant.js';
import type { ClusterAccess } from './access.js';
import { type HostOutcome, outcome, runReset, step } from './steps.js';

/**
 * `labgen reset`: the cluster taken down on every host, the hosts kept (VMs stay created, an
 * existing host keeps what `labgen up` put there), so `labgen up` then makes a new cluster:
 *   1. provision/reset.sh on every worker at once, then on the control plane (a worker is
 *      reset while the API it leaves still answers);
 *   2. the admin and join kubeconfigs in .labgen/secrets/ removed: the cluster they name is gone;
 *   3. `labgen up`'s record: every VM reset needs its provisioners again (kubeadm init, join),
 *      and k8s/ is applied again to the new cluster.
 * A host that fails is named; the others are reset all the same (exit 1).
 */

/**
 * What kubeadm made that the lab folder keeps a copy of: the admin kubeconfig up fetched, and
 * in each VM's share what control-plane.sh copied out (the join file, the admin kubeconfig) and
 * the join file up carried to a worker. They name a cluster that is gone.
 */
function clusterFiles(lab: Lab): string[] {
  const inShares = onExistingHosts(lab) ? [] : vms(lab).flatMap((v) => [JOIN_FILE, ADMIN_KUBECONFIG].map((f) => `${vmShare(v.name)}/${relative(LABGEN_DIR, f)}`));
  return [ADMIN_KUBECONFIG, JOIN_FILE, ...inShares];
}

export interface ResetInput {
  labDir: string;
  lab: Lab;
  access: ClusterAccess;
  progress: Progress;
}

export async function resetCluster(i: ResetInput): Promise<HostOutcome[]> {
  const hosts = vms(i.lab);
  const results = new Map(hosts.map((h) => [h.name, outcome(h.name)]));
  const states = i.access.vagrant ? await statesOrStop(i.access.vagrant, 'nothing was reset') : undefined;
  const one = async (h: Vm) => {
    const o = results.get(h.name)!;
    i.progress.start(h.name, 'reset.sh');
    const state = states?.get(h.name);
    if (states && state !== 'running') {
      if (state === 'not_created' || state === undefined) o.notes.push('no VM (not created): nothing to reset');
      else {
        o.ok = false;
        o.failure = { host: h.name, step: 'reset.sh', message: `the VM is ${state}: its disk still holds the cluster; start it (vagrant up ${h.name} --no-provision) and run labgen reset again, or vagrant destroy -f ${h.name}` };
      }
    } else await step(o, i.progress, 'reset.sh', false, async () => runReset(i.labDir, (await i.access.host(h.name)).runner, h.name, o, i.progress));
    i.progress.done(h.name, o.ok ? `done: ${o.did.join('; ') || o.notes.join('; ')}` : 'failed', o.failure ? `${o.failure.step}: ${o.failure.message}` : undefined);
  };
  await pool(
    hosts.filter((h) => h.role === 'worker'),
    16,
    one,
  );
  await one(hosts.find((h) => h.role === 'control-plane')!);
  const cp = results.get(hosts[0]!.name)!;
  forgetCluster(i.labDir, i.lab, cp.ok, states ? [...results.values()].filter((o) => o.ok).map((o) => o.host) : []);
  return [...results.values()];
}

/** Once the control plane is reset, the cluster's files here go; the VMs reset need their provisioners again from `labgen up`. */
function forgetCluster(labDir: string, lab: Lab, cpReset: boolean, vmsReset: string[]): void {
  if (cpReset) for (const f of clusterFiles(lab)) rmSync(join(labDir, f), { force: true });
  const state = readUpState(labDir);
  for (const h of vmsReset) state.vms[h] = { ...state.vms[h], pending: 'provision' };
  if (cpReset) for (const [p, a] of Object.entries(state.applied)) if (a.kind === 'k8s') delete state.applied[p];
  writeUpState(labDir, state);
}
