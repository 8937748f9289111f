import type { Vm } from '../../generator/model/hosts.js';
import { APPLY_SCRIPT } from '../../generator/plan/k8s/apply-script.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import type { Decision } from '../../generator/writer/decide.js';
import { type ChangedFile, impact, type NextAction } from '../../generator/writer/impact.js';
import { type Applied, atLeast, type Need, stronger, type UpState } from './state.js';

/**
 * What `labgen up` does, decided before it runs anything (pure): the writer's impact of what
 * changed since up last applied the lab folder (state.ts), as typed actions (vm-up, vm-provision,
 * node-delete, k8s-apply: generator/writer/impact.ts, the same rules `labgen generate` prints as
 * "what next"), met with what `vagrant status` says each VM is now:
 *   not created          vagrant up (a new VM runs every provisioner)
 *   running              only what it needs: nothing; its common provisioner (the lab CA);
 *                        every provisioner; or a restart with every provisioner (the Vagrantfile changed)
 *   halted, saved, …     vagrant up, with --provision when it needs provisioning
 * A VM whose last step failed or was skipped still needs it (state.ts `pending`); a created VM
 * whose SSH host key is not the one its common provisioner last installed (a rekey:
 * `labgen generate --new-secrets` changes no VM file, only .labgen/secrets/hostkeys/VM/ and
 * the pins) needs that provisioner again: it installs the key (labgen-host-key). The control
 * plane goes first: the workers join it.
 */

/** A VM file or a k8s/ file as it is on disk now. */
export interface FileNow {
  path: string;
  sha256: string;
  kind: 'vm' | 'k8s';
  host?: string;
  spec: FileSpec;
}

export type VmOp =
  /** `vagrant up VM --provider P`, with every provisioner or only `common` when it is created already */
  | { kind: 'up'; provision?: 'all' | 'common' }
  /** `vagrant provision VM`, every provisioner or only the one named */
  | { kind: 'provision'; only?: string }
  /** `vagrant reload VM --provision` */
  | { kind: 'reload' };

export interface VmStep {
  vm: Vm;
  /** what vagrant status said */
  state: string;
  need: Need;
  op?: VmOp;
  /** why, for the report */
  why: string[];
  /** a worker that may join the cluster in this step (it needs a valid bootstrap token) */
  joins: boolean;
}

export interface UpPlan {
  /** the control plane first */
  steps: VmStep[];
  /** refresh the bootstrap token before the workers (the control plane's token step), when the control plane is not provisioned anyway */
  refreshToken: boolean;
  deletes: string[];
  k8sApply: boolean;
  /** what the impact said, for the report */
  actions: NextAction[];
  notes: string[];
}

/** The decisions `impact` reads, for the files now against those up last applied (create / identical / update / remove). */
export function decisionsSince(applied: Record<string, Applied>, now: readonly FileNow[]): Decision[] {
  const planned = new Set(now.map((f) => f.path));
  const ds: Decision[] = now.map((f) => {
    const a = applied[f.path];
    return { path: f.path, spec: f.spec, action: !a ? 'create' : a.sha256 === f.sha256 ? 'identical' : 'update' };
  });
  for (const [path, a] of Object.entries(applied))
    if (!planned.has(path)) ds.push({ path, action: 'remove', was: { kind: a.kind, ...(a.host ? { host: a.host } : {}) } });
  return ds;
}

/** What the impact's actions ask of one VM. */
function needFromActions(vm: string, actions: readonly NextAction[]): Need {
  let need: Need = 'none';
  for (const a of actions) {
    // a VM new to up but already running (brought up by hand): provisioning it again is safe (idempotent) and the only way to know
    if (a.do === 'vm-up' && a.vms.includes(vm)) need = stronger(need, 'provision');
    if (a.do === 'vm-provision' && (a.vms.length === 0 || a.vms.includes(vm))) need = stronger(need, a.reload ? 'reload' : 'provision');
  }
  return need;
}

export const isRunning = (state: string) => state === 'running';

function opFor(state: string, need: Need): VmOp | undefined {
  if (state === 'not_created' || state === '') return { kind: 'up' };
  if (isRunning(state)) {
    if (need === 'none') return undefined;
    if (need === 'common') return { kind: 'provision', only: 'common' };
    return need === 'reload' ? { kind: 'reload' } : { kind: 'provision' };
  }
  // halted, saved, paused, aborted: booting it applies a changed Vagrantfile too, so a reload is an up with every provisioner
  return { kind: 'up', ...(need === 'none' ? {} : { provision: need === 'common' ? 'common' : 'all' }) };
}

/** Whether the op runs every provisioner (the control plane's token step among them). */
export const provisionsAll = (step: VmStep) =>
  !!step.op && ((step.op.kind === 'up' && (step.state === 'not_created' || step.state === '' || step.op.provision === 'all')) || step.op.kind === 'reload' || (step.op.kind === 'provision' && !step.op.only));

const changedFor = (vm: string, files: readonly ChangedFile[]) => files.filter((f) => !f.host || f.host === vm).map((f) => f.path);
const changedText = (paths: string[]) =>
  paths.length === 0 ? 'new to labgen up' : `changed: ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`;

/** Why a created VM's common provisioner must install its host key again, if it must: the key now (sha256 of its public half) against the one it last installed. */
function hostKeyWhy(now: string | undefined, installed: string | undefined): string | undefined {
  if (now === undefined || now === installed) return undefined;
  return installed === undefined ? 'its SSH host key: not installed by labgen up yet' : 'a new SSH host key';
}

export interface UpPlanInput {
  vms: readonly Vm[];
  /** what vagrant status says, per VM */
  states: ReadonlyMap<string, string>;
  now: readonly FileNow[];
  state: UpState;
  /** per VM, the sha256 of its SSH host key's public half as it is on disk now */
  hostKeys: ReadonlyMap<string, string>;
  /** per VM, the sha256 of the Vagrantfile as it sees it now (vagrantfileOf) */
  vagrantfiles?: ReadonlyMap<string, string>;
}

/** A restart the impact asks for (the Vagrantfile changed) that this VM does not need: its view of the Vagrantfile is the one it booted with. */
function restartNeeded(need: Need, vm: string, input: UpPlanInput): Need {
  const view = input.vagrantfiles?.get(vm);
  return need === 'reload' && view !== undefined && view === input.state.vms[vm]?.vagrantfile ? 'provision' : need;
}

export function planUp(input: UpPlanInput): UpPlan {
  const imp = impact(decisionsSince(input.state.applied, input.now));
  const vmGroup = imp.groups.find((g) => g.kind === 'vm');
  const actions = imp.groups.filter((g) => g.kind === 'vm' || g.kind === 'k8s').flatMap((g) => g.actions);
  const ordered = [...input.vms].sort((a, b) => (a.role === b.role ? 0 : a.role === 'control-plane' ? -1 : 1));
  const steps = ordered.map((vm): VmStep => {
    const state = input.states.get(vm.name) ?? '';
    const pending = input.state.vms[vm.name]?.pending ?? 'none';
    const fromActions = restartNeeded(needFromActions(vm.name, actions), vm.name, input);
    const isNew = state === 'not_created' || state === '';
    // a new VM runs every provisioner: it gets the key anyway
    const rekey = isNew ? undefined : hostKeyWhy(input.hostKeys.get(vm.name), input.state.vms[vm.name]?.hostKey);
    const need = stronger(stronger(fromActions, pending), rekey ? 'common' : 'none');
    const why = [
      ...(isNew ? ['not created'] : isRunning(state) ? [] : [state]),
      // a new VM runs everything: the files it gets are not news
      ...(fromActions !== 'none' && !isNew ? [changedText(changedFor(vm.name, vmGroup?.files ?? []))] : []),
      ...(pending !== 'none' ? [`its last ${pending === 'common' ? 'common provisioner' : pending} did not finish`] : []),
      ...(rekey ? [rekey] : []),
    ];
    const op = opFor(state, need);
    // a worker joins when it is new, new to up, or its last provisioning did not finish; a joined one's worker.sh changes nothing
    const fresh = actions.some((a) => a.do === 'vm-up' && a.vms.includes(vm.name));
    const joins = vm.role === 'worker' && !!op && (state === 'not_created' || state === '' || fresh || atLeast(pending, 'provision'));
    return { vm, state, need, op, why, joins };
  });
  const cp = steps.find((s) => s.vm.role === 'control-plane');
  const newCluster = !!cp && (cp.state === 'not_created' || cp.state === '');
  // k8s/checks/ alone (a lab without services) has nothing for apply.sh to install: there is no apply.sh
  const hasK8s = input.now.some((f) => f.path === APPLY_SCRIPT);
  const deletes = actions.flatMap((a) => (a.do === 'node-delete' ? [a.vm] : []));
  const notes = [
    ...(newCluster && steps.some((s) => s.vm.role === 'worker' && s.state !== 'not_created' && s.state !== '')
      ? [`the control plane ${cp!.vm.name} is created anew (a new cluster): a worker that joined the old one must be rebuilt: vagrant destroy -f WORKER, then labgen up`]
      : []),
    // the Vagrantfile no longer names it, so vagrant destroy NAME cannot reach it: by its id
    ...deletes.map((vm) => `${vm} left the lab: its node is deleted from the cluster; its VM is not: \`vagrant global-status\` shows its id, \`vagrant destroy -f ID\` removes it`),
  ];
  return {
    steps,
    refreshToken: !!cp && steps.some((s) => s.joins) && !provisionsAll(cp),
    deletes,
    k8sApply: hasK8s && (actions.some((a) => a.do === 'k8s-apply') || newCluster),
    actions,
    notes,
  };
}

/** The vagrant arguments of a VM's op. */
export function opArgs(vm: string, op: VmOp, provider: string): string[] {
  switch (op.kind) {
    case 'up':
      return ['up', vm, '--provider', provider, ...(op.provision === 'all' ? ['--provision'] : op.provision === 'common' ? ['--provision-with', 'common'] : [])];
    case 'provision':
      return ['provision', vm, ...(op.only ? ['--provision-with', op.only] : [])];
    case 'reload':
      return ['reload', vm, '--provision'];
  }
}
