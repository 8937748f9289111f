import { shellQuote as q } from '../../generator/common/quote.js';
import type { Lab } from '../../generator/model/defaults.js';
import { vms } from '../../generator/model/hosts.js';
import { EXISTING_LAB_ROOT } from '../../generator/plan/vm/lab-root.js';
import type { KnownHostsFile } from '../base/known-hosts.js';
import type { LocalRunner } from '../base/local.js';
import type { Progress } from '../base/progress.js';
import { deleteNode } from '../up/cluster.js';
import { readUpState, writeUpState } from '../up/state.js';
import type { ClusterAccess } from './access.js';
import { type HostOutcome, outcome, runReset, step } from './steps.js';

/**
 * `labgen node remove NAME`, the hosts' side (the CLI then edits lab.yaml and regenerates, once
 * this succeeded): in order, each step only after the one before it succeeded (or was gone past
 * with --force, for a host that is gone for good):
 *   1. the node drained and deleted (kubectl here, the admin kubeconfig; none yet: no cluster, nothing to drain);
 *   2. provision/reset.sh on the host: kubeadm reset and what it leaves;
 *   3. a VM destroyed (`vagrant destroy -f`); an existing host loses what `labgen up` put there
 *      (/var/lib/labgen/lab) and its pin in .labgen/known_hosts;
 *   4. `labgen up`'s record of it forgotten.
 */

export interface RemoveInput {
  labDir: string;
  lab: Lab;
  name: string;
  access: ClusterAccess;
  local: LocalRunner;
  knownHosts: KnownHostsFile;
  /** go past a failed step (the host is down, or gone for good) */
  force: boolean;
  progress: Progress;
}

export async function removeNode(i: RemoveInput): Promise<HostOutcome> {
  const { name, progress } = i;
  const o = outcome(name);
  progress.start(name, 'drain');
  try {
    const ok = (await drain(i, o)) && (i.access.vagrant ? await leaveVm(i, o) : await leaveHost(i, o));
    if (ok) forget(i);
  } finally {
    progress.done(name, o.ok ? `removed: ${o.did.join('; ') || 'nothing to undo'}` : 'failed', o.failure ? `${o.failure.step}: ${o.failure.message}` : undefined);
  }
  return o;
}

async function drain(i: RemoveInput, o: HostOutcome): Promise<boolean> {
  return step(o, i.progress, 'drain', i.force, async () => {
    const kubeconfig = await i.access.kubeconfig();
    if (!kubeconfig) {
      o.notes.push('no admin kubeconfig (labgen up never fetched one): no cluster to drain it from');
      return;
    }
    await deleteNode(i.local, kubeconfig, i.name);
    o.did.push(`kubectl drain, delete node ${i.name}`);
  });
}

/** A VM: reset.sh while it runs (a stopped one has nothing running to reset), then destroyed. */
async function leaveVm(i: RemoveInput, o: HostOutcome): Promise<boolean> {
  const vagrant = i.access.vagrant!;
  let state = 'not_created';
  if (!(await step(o, i.progress, 'vagrant status', false, async () => void (state = (await vagrant.status()).get(i.name) ?? state)))) return false;
  if (state === 'running' && !(await step(o, i.progress, 'reset.sh', i.force, () => runReset(i.labDir, vagrant.on(i.name), i.name, o, i.progress)))) return false;
  if (state === 'not_created') {
    o.notes.push('no VM (not created)');
    return true;
  }
  return step(o, i.progress, 'vagrant destroy', false, async () => {
    await vagrant.machine(i.name, ['destroy', '-f', i.name], (e) => e.kind === 'step' && i.progress.step(i.name, e.text));
    o.did.push(`vagrant destroy -f ${i.name}`);
  });
}

/** An existing host: reset.sh, then what `labgen up` put there removed, and its pin. */
async function leaveHost(i: RemoveInput, o: HostOutcome): Promise<boolean> {
  let hostKey: Buffer | undefined;
  const ok = await step(o, i.progress, 'reset.sh', i.force, async () => {
    const h = await i.access.host(i.name);
    hostKey = h.hostKey;
    await runReset(i.labDir, h.runner, i.name, o, i.progress);
    await h.runner.run('clean up', `rm -rf ${EXISTING_LAB_ROOT}`, `rm -rf ${q(EXISTING_LAB_ROOT)}`);
    o.did.push(`removed ${EXISTING_LAB_ROOT}`);
  });
  if (ok && hostKey) {
    const ip = vms(i.lab).find((v) => v.name === i.name)!.ip;
    for (const n of [i.name, ip]) i.knownHosts.unpin(n, hostKey);
    o.did.push('its host key unpinned');
  }
  return ok;
}

/** `labgen up` keeps no record of a host that left: its files and its VM record go. */
function forget(i: RemoveInput): void {
  const state = readUpState(i.labDir);
  delete state.vms[i.name];
  for (const [p, a] of Object.entries(state.applied)) if (a.host === i.name) delete state.applied[p];
  writeUpState(i.labDir, state);
}
