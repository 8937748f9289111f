import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote as q } from '../../generator/common/quote.js';
import type { Lab } from '../../generator/model/defaults.js';
import { onExistingHosts, vms } from '../../generator/model/hosts.js';
import { EXISTING_LAB_ROOT } from '../../generator/plan/vm/lab-root.js';
import type { KnownHostsFile } from '../base/known-hosts.js';
import type { LocalRunner } from '../base/local.js';
import type { Progress } from '../base/progress.js';
import { drainNode, removeNodeObject } from '../up/cluster.js';
import { readUpState, writeUpState } from '../up/state.js';
import { vmShare } from '../up/vm-share.js';
import type { ClusterAccess } from './access.js';
import { type HostOutcome, outcome, runReset, step } from './steps.js';

/**
 * `labgen node remove NAME`, the hosts' side, in the order of kubeadm's "remove a node" (each
 * step only once the one before it succeeded, or was gone past with --force: a host that is
 * down, or gone for good):
 *   1. the node drained (kubectl here, the admin kubeconfig; none yet: no cluster to drain it from);
 *   2. provision/reset.sh on the host: kubeadm reset and what it leaves;
 *   3. the Node object deleted (even when a forced drain failed: the node must not stay behind);
 *   4. a VM destroyed (`vagrant destroy -f`); an existing host loses /var/lib/labgen/lab, what
 *      `labgen up` delivered there.
 * The CLI then writes lab.yaml and the lab folder, and only then `forgetHost` drops labgen's
 * records of it (its pins, up's record): a failure before that leaves them for a second try.
 */

export interface RemoveInput {
  labDir: string;
  lab: Lab;
  name: string;
  access: ClusterAccess;
  local: LocalRunner;
  /** go past a failed step (the host is down, or gone for good) */
  force: boolean;
  progress: Progress;
}

export async function removeNode(i: RemoveInput): Promise<HostOutcome> {
  const { name, progress } = i;
  const o = outcome(name);
  progress.start(name, 'drain');
  try {
    const kubeconfig = await cluster(i, o);
    if (kubeconfig === null) return o;
    const vm = i.access.vagrant !== undefined;
    const state = vm ? await vmState(i, o) : 'existing';
    if (state === null) return o;
    const kubectl = (what: string, fn: () => Promise<void>) => step(o, progress, what, i.force, async () => (await fn(), void o.did.push(`kubectl ${what} ${name}`)));
    if (kubeconfig && !(await kubectl('drain', () => drainNode(i.local, kubeconfig, name, 'drain')))) return o;
    // a VM that does not run has nothing running to reset (its disk goes with it)
    if ((state === 'running' || state === 'existing') && !(await reset(i, o))) return o;
    if (kubeconfig && !(await kubectl('delete node', () => removeNodeObject(i.local, kubeconfig, name, 'delete node')))) return o;
    if (vm) await destroy(i, o, state);
  } finally {
    progress.done(name, o.ok ? `removed: ${[...o.did, ...o.notes].join('; ') || 'nothing to undo'}` : 'failed', o.failure ? `${o.failure.step}: ${o.failure.message}` : undefined);
  }
  return o;
}

/** The kubeconfig kubectl reaches the API with; undefined: no cluster yet; null: it failed (recorded). */
async function cluster(i: RemoveInput, o: HostOutcome): Promise<string | undefined | null> {
  let kubeconfig: string | undefined;
  const ok = await step(o, i.progress, 'the API', i.force, async () => void (kubeconfig = await i.access.kubeconfig()));
  if (!ok) return null;
  if (!kubeconfig) o.notes.push('no admin kubeconfig (labgen up never fetched one): no cluster to drain it from');
  return kubeconfig;
}

/** The VM's state (vagrant status); null: it failed (recorded). */
async function vmState(i: RemoveInput, o: HostOutcome): Promise<string | null> {
  let state = 'not_created';
  const ok = await step(o, i.progress, 'vagrant status', false, async () => void (state = (await i.access.vagrant!.status()).get(i.name) ?? state));
  return ok ? state : null;
}

/** reset.sh on the host; an existing host then loses what `labgen up` delivered to it. */
async function reset(i: RemoveInput, o: HostOutcome): Promise<boolean> {
  return step(o, i.progress, 'reset.sh', i.force, async () => {
    const { runner } = await i.access.host(i.name);
    await runReset(i.labDir, runner, i.name, o, i.progress);
    if (i.access.vagrant) return;
    await runner.run('clean up', `rm -rf ${EXISTING_LAB_ROOT}`, `rm -rf ${q(EXISTING_LAB_ROOT)}`);
    o.did.push(`removed ${EXISTING_LAB_ROOT}`);
  });
}

async function destroy(i: RemoveInput, o: HostOutcome, state: string): Promise<void> {
  if (state === 'not_created') {
    o.notes.push('no VM (not created)');
    return;
  }
  await step(o, i.progress, 'vagrant destroy', false, async () => {
    await i.access.vagrant!.machine(i.name, ['destroy', '-f', i.name], (e) => e.kind === 'step' && i.progress.step(i.name, e.text));
    o.did.push(`vagrant destroy -f ${i.name}`);
  });
}

/**
 * labgen keeps no record of a host that left the lab (once lab.yaml no longer names it): its
 * pins under its name and address, whatever key (it may never have answered this time),
 * `labgen up`'s record of it and its files, a VM's share. What could not be removed, in words.
 */
export function forgetHost(labDir: string, lab: Lab, name: string, knownHosts: KnownHostsFile): string[] {
  const ip = vms(lab).find((v) => v.name === name)?.ip;
  for (const n of [name, ...(ip ? [ip] : [])]) knownHosts.unpin(n);
  const state = readUpState(labDir);
  delete state.vms[name];
  for (const [p, a] of Object.entries(state.applied)) if (a.host === name) delete state.applied[p];
  writeUpState(labDir, state);
  if (onExistingHosts(lab)) return [];
  // a VM's share: its host key's copy and what its root wrote there
  try {
    rmSync(join(labDir, vmShare(name)), { recursive: true, force: true });
    return [];
  } catch (e) {
    return [`could not remove ${vmShare(name)}/ (${(e as Error).message}): remove it by hand (it holds a copy of the VM's host key)`];
  }
}
