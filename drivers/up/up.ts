import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRETS_DIR } from '../../generator/common/layout.js';
import { sha256 } from '../../generator/common/text.js';
import type { Lab } from '../../generator/model/defaults.js';
import { API_HOST, onService, type Vm, vms as vmsOf } from '../../generator/model/hosts.js';
import { CA_FILE } from '../../generator/plan/k8s/apply-script.js';
import { vagrantfileOf } from '../../generator/plan/vm/vagrantfile.js';
import { joinKubeconfig } from '../../generator/plan/vm/kubeadm-config.js';
import { hostKeySecret } from '../../generator/secrets/paths.js';
import { commandOutcome, type Failure, failureOf } from '../base/failure.js';
import { LocalRunner } from '../base/local.js';
import type { Progress } from '../base/progress.js';
import { applyK8s, clusterSlot, deleteNode, type ReadyTiming, waitReady } from './cluster.js';
import { ADMIN_KUBECONFIG, mergeKubeconfig, saveAdmin } from './kubeconfig.js';
import { type FileNow, opArgs, planUp, type UpPlan, type VmOp, type VmStep } from './plan.js';
import { type Need, readUpState, stronger, type UpState, type VmRecord, writeUpState } from './state.js';
import { statesOrStop, Vagrant } from './vagrant.js';
import { writeVmShare } from './vm-share.js';

/**
 * `labgen up`: the lab's VMs brought to what the lab folder says, then the cluster. In order:
 *   1. `vagrant status`, and the plan (plan.ts): per VM nothing, up, provision or reload (its
 *      common provisioner alone when only its SSH host key is new);
 *   2. each VM, one vagrant command at a time, control plane first (a worker joins it; a
 *      control plane that fails skips the workers, a worker that fails does not stop the next);
 *      the control plane's token step first when a worker will join (its token lives 24 h);
 *      before each command, the VM's own folder of what it may see (vm-share.ts: its host key,
 *      the control plane's token, a joining worker's join file fetched from the control plane);
 *   3. the admin kubeconfig from the control plane (`vagrant ssh`: whatever the synced folder's
 *      kind, rsync included) into .labgen/secrets/, 0600; the nodes Ready; a node that left the lab
 *      deleted; k8s/apply.sh when k8s/ changed or the cluster is new;
 *   4. the lab CA, once apply.sh saved it, into each VM that does not trust it yet (its common
 *      provisioner: containerd then trusts the lab registry);
 *   5. with --merge-kubeconfig, the lab as a context of the user's kubeconfig.
 * Every step is recorded in .labgen/up-state.json as it finishes, so a second `up` does nothing
 * and an interrupted or failed one resumes where it stopped.
 */

export type UpTiming = ReadyTiming;

export const DEFAULT_UP_TIMING: UpTiming = { readyTimeoutMs: 20 * 60_000, pollMs: 5_000 };

export interface UpInput {
  labDir: string;
  lab: Lab;
  /** the VMs' files and k8s/'s as they are on disk (up to date with lab.yaml: the caller checked) */
  now: FileNow[];
  /** added to labgen's environment for vagrant, kubectl and k8s/apply.sh */
  env?: Record<string, string>;
  timing: UpTiming;
  /** the progress view for these hosts (the VMs, then the cluster) */
  progress: (hosts: string[]) => Progress;
  /** merge the admin kubeconfig into this file as a context named after the lab */
  mergeInto?: string;
}

export interface VmResult {
  vm: string;
  /** its state before (vagrant status) */
  before: string;
  /** the commands run */
  did: string[];
  why: string[];
  ok: boolean;
  /** not run: the control plane failed */
  skipped?: boolean;
  ms: number;
  failure?: Failure;
}

export interface UpResult {
  vms: VmResult[];
  cluster: { slot: string; did: string[]; ok: boolean; skipped?: boolean; failures: Failure[] };
  plan: UpPlan;
  notes: string[];
  merged?: { file: string; created: boolean; modeWas?: number };
  ok: boolean;
}

const shown = (args: string[]) => `vagrant ${args.join(' ')}`;
/** A failure in one line, for the progress view (the report below it has the tail). */
const brief = (f: Failure) => `${f.step}: ${f.command ? commandOutcome(f.command, f.code) : f.message}`;
const created = (state: string) => state !== 'not_created' && state !== '';

/** Whether the op runs the VM's common provisioner (the one that installs the lab CA). */
function runsCommon(state: string, op: VmOp): boolean {
  if (op.kind === 'up') return !created(state) || !!op.provision;
  if (op.kind === 'provision') return !op.only || op.only === 'common';
  return true;
}

/** Per VM, the sha256 of the Vagrantfile as it sees it (its own line of NODES, not the others'). */
function vagrantfileViews(labDir: string, lab: Lab): Map<string, string> {
  const file = join(labDir, 'Vagrantfile');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return new Map(vmsOf(lab).map((v) => [v.name, sha256(vagrantfileOf(text, v.name))]));
}

class UpRun {
  private readonly local: LocalRunner;
  private readonly vagrant: Vagrant;
  private readonly state: UpState;
  private progress!: Progress;
  private readonly registry: boolean;
  /** per VM, the sha256 of the Vagrantfile as it sees it (read once: the lab folder does not change during an up) */
  private readonly vagrantfiles: Map<string, string>;
  /** the control plane's join file, fetched once a worker joins in this run */
  private join?: Buffer;

  constructor(private readonly input: UpInput) {
    this.local = new LocalRunner({ cwd: input.labDir, ...(input.env ? { env: input.env } : {}) });
    this.vagrant = new Vagrant(this.local);
    this.state = readUpState(input.labDir);
    this.registry = !!onService(input.lab, 'registry');
    this.vagrantfiles = vagrantfileViews(input.labDir, input.lab);
  }

  private record(vm: string): VmRecord {
    return (this.state.vms[vm] ??= {});
  }

  /** What `vm` still needs after this run (the stronger of what it needed before and `need`). */
  private pend(vm: string, need: Need): void {
    const n = stronger(this.record(vm).pending ?? 'none', need);
    if (n !== 'none') this.record(vm).pending = n;
  }

  private save(): void {
    writeUpState(this.input.labDir, this.state);
  }

  /** The sha256 of the VM's SSH host key (its public half) now: common.sh installs the key from the VM's share, a copy of it. */
  private hostKeySha(vm: string): string | undefined {
    const file = join(this.input.labDir, SECRETS_DIR, `${hostKeySecret(vm)}.pub`);
    return existsSync(file) ? sha256(readFileSync(file)) : undefined;
  }


  /** What the VM's common provisioner installed, once it ran: the lab CA (or none yet) and the host key, as they were when it started. */
  private ranCommon(vm: string, ca: string | undefined, hostKey: string | undefined): void {
    const rec = this.record(vm);
    if (ca) rec.labCa = ca;
    else delete rec.labCa;
    if (hostKey) rec.hostKey = hostKey;
    else delete rec.hostKey;
  }

  /**
   * What the VM may see of .labgen/ into its share (vm-share.ts), before a vagrant command for it.
   * A joining worker gets the control plane's join file, fetched with `vagrant ssh` (whatever the
   * synced folder's kind, and a file the VM's root wrote may be root's on the laptop).
   */
  private async share(vm: Vm, joins: boolean): Promise<void> {
    if (joins && !this.join) {
      const cp = vmsOf(this.input.lab).find((v) => v.role === 'control-plane')!.name;
      const text = await this.vagrant.ssh(cp, 'the join file', `sudo cat ${joinKubeconfig(this.input.lab)}`);
      if (text) this.join = Buffer.from(text);
    }
    writeVmShare(this.input.labDir, vm, joins ? this.join : undefined);
  }

  /** The lab CA's sha256 now, when the VMs' common.sh installs it (the registry is on) and apply.sh saved it. */
  private caSha(): string | undefined {
    const file = join(this.input.labDir, CA_FILE);
    return this.registry && existsSync(file) ? sha256(readFileSync(file)) : undefined;
  }

  async run(): Promise<UpResult> {
    const states = await statesOrStop(this.vagrant, 'nothing was started');
    const vms = vmsOf(this.input.lab);
    const hostKeys = new Map<string, string>();
    for (const { name } of vms) {
      const key = this.hostKeySha(name);
      if (key) hostKeys.set(name, key);
    }
    const plan = planUp({ vms, states, now: this.input.now, state: this.state, hostKeys, vagrantfiles: this.vagrantfiles });
    const slot = clusterSlot(plan.steps.map((s) => s.vm.name));
    this.progress = this.input.progress([...plan.steps.map((s) => s.vm.name), slot]);
    const result: UpResult = { vms: [], cluster: { slot, did: [], ok: false, failures: [] }, plan, notes: [...plan.notes], ok: false };
    try {
      result.vms = await this.vmPhase(plan);
      this.recordVmFiles(plan);
      if (result.vms.every((r) => r.ok)) await this.clusterPhase(plan, result);
      else {
        result.cluster.skipped = true;
        this.progress.done(slot, 'skipped: a VM failed');
      }
      this.merge(result);
    } finally {
      await this.progress.end();
      this.local.close();
    }
    result.ok = result.vms.every((r) => r.ok) && result.cluster.ok;
    return result;
  }

  // ---- the VMs -----------------------------------------------------------------------------

  private async vmPhase(plan: UpPlan): Promise<VmResult[]> {
    const results: VmResult[] = [];
    let cpFailed = false;
    for (const s of plan.steps) {
      const t0 = Date.now();
      const vm = s.vm.name;
      const r: VmResult = { vm, before: s.state || 'not_created', did: [], why: s.why, ok: false, ms: 0 };
      results.push(r);
      const token = s.vm.role === 'control-plane' && plan.refreshToken ? [{ kind: 'provision', only: 'control-plane' } as const] : [];
      const ops: VmOp[] = [...(s.op ? [s.op] : []), ...token];
      if (!ops.length) {
        r.ok = true;
        this.progress.done(vm, `${s.state}: nothing to do`);
        continue;
      }
      if (cpFailed) {
        r.skipped = true;
        this.pend(vm, s.need);
        this.save();
        this.progress.done(vm, 'skipped: the control plane failed');
        continue;
      }
      this.progress.start(vm, s.why.length ? s.why.join('; ') : shown(opArgs(vm, ops[0]!, this.input.lab.cluster.provider)));
      try {
        for (const op of ops) await this.runOp(s, op, op === s.op, r);
        r.ok = true;
      } catch (e) {
        r.failure = failureOf(e, vm, 'vagrant');
        // a VM created in a failed `up` is there, half provisioned: the next up provisions it
        this.pend(vm, stronger(s.need, created(s.state) ? 'none' : 'provision'));
        this.save();
        if (s.vm.role === 'control-plane') cpFailed = true;
      }
      r.ms = Date.now() - t0;
      this.progress.done(vm, `done: ${r.did.join('; ')} (${(r.ms / 1000).toFixed(0)} s)`, r.failure ? brief(r.failure) : undefined);
    }
    return results;
  }

  private async runOp(s: VmStep, op: VmOp, main: boolean, r: VmResult): Promise<void> {
    const vm = s.vm.name;
    const args = opArgs(vm, op, this.input.lab.cluster.provider);
    await this.share(s.vm, s.joins);
    r.did.push(shown(args));
    this.progress.step(vm, op.kind === 'provision' && op.only === 'control-plane' ? 'the bootstrap token (control-plane provisioner)' : shown(args));
    const ca = this.caSha();
    const hostKey = this.hostKeySha(vm);
    await this.vagrant.machine(vm, args, (e) => {
      if (e.kind === 'provisioner') this.progress.step(vm, `provisioner ${e.name}`);
      else if (e.kind === 'step') this.progress.step(vm, e.text);
    });
    if (main) delete this.record(vm).pending;
    if (runsCommon(s.state, op)) this.ranCommon(vm, ca, hostKey);
    // up (from any state but running) and reload boot it with the Vagrantfile as it is now
    if (op.kind !== 'provision') this.record(vm).vagrantfile = this.vagrantfiles.get(vm)!;
    this.save();
  }

  /** The VMs' files as applied now: VMs that did not get them are `pending`; a removed VM's stay until its node is deleted. */
  private recordVmFiles(plan: UpPlan): void {
    const keep = Object.entries(this.state.applied).filter(([, a]) => a.kind === 'k8s' || (a.host !== undefined && plan.deletes.includes(a.host)));
    const vm = this.input.now.filter((f) => f.kind === 'vm').map((f) => [f.path, { sha256: f.sha256, kind: f.kind, ...(f.host ? { host: f.host } : {}) }] as const);
    this.state.applied = Object.fromEntries([...keep, ...vm]);
    // VMs no longer in the lab keep no record (their node's deletion is the impact's, above)
    const names = new Set(plan.steps.map((s) => s.vm.name));
    for (const v of Object.keys(this.state.vms)) if (!names.has(v)) delete this.state.vms[v];
    this.save();
  }

  // ---- the cluster -------------------------------------------------------------------------

  private caStale(plan: UpPlan): string[] {
    const ca = this.caSha();
    return ca ? plan.steps.filter((s) => this.state.vms[s.vm.name]?.labCa !== ca).map((s) => s.vm.name) : [];
  }

  private async clusterPhase(plan: UpPlan, result: UpResult): Promise<void> {
    const c = result.cluster;
    const step = (text: string) => this.progress.step(c.slot, text);
    const kubeconfig = join(this.input.labDir, ADMIN_KUBECONFIG);
    const vmsChanged = plan.steps.some((s) => s.op) || plan.refreshToken;
    const work = vmsChanged || plan.deletes.length > 0 || plan.k8sApply || !existsSync(kubeconfig) || this.caStale(plan).length > 0;
    if (!work) {
      c.ok = true;
      this.progress.done(c.slot, 'nothing to do');
      return;
    }
    this.progress.start(c.slot, 'the admin kubeconfig');
    const cp = plan.steps.find((s) => s.vm.role === 'control-plane')!.vm.name;
    let current = 'kubeconfig';
    try {
      step(`the admin kubeconfig from ${cp}`);
      if (saveAdmin(this.input.labDir, await this.vagrant.ssh(cp, 'kubeconfig', 'sudo cat /etc/kubernetes/admin.conf'))) c.did.push(`${ADMIN_KUBECONFIG} (0600)`);
      current = 'nodes Ready';
      const nodes = plan.steps.map((s) => s.vm.name);
      await waitReady(this.local, kubeconfig, nodes, this.input.timing, step, `${API_HOST}.${this.input.lab.domain}`);
      c.did.push(`nodes Ready: ${nodes.join(', ')}`);
      for (const node of plan.deletes) {
        current = 'node-delete';
        step(`deleting node ${node}`);
        await deleteNode(this.local, kubeconfig, node);
        for (const [p, a] of Object.entries(this.state.applied)) if (a.host === node) delete this.state.applied[p];
        this.save();
        c.did.push(`kubectl delete node ${node}`);
      }
      if (plan.k8sApply) {
        current = 'k8s/apply.sh';
        step('k8s/apply.sh');
        await applyK8s(this.local, this.input.labDir, kubeconfig, step);
        this.recordK8sFiles();
        c.did.push('k8s/apply.sh');
      }
    } catch (e) {
      c.failures.push(failureOf(e, c.slot, current));
      this.progress.done(c.slot, 'failed', brief(c.failures[0]!));
      return;
    }
    await this.trustCa(plan, c, step);
    c.ok = c.failures.length === 0;
    this.progress.done(c.slot, `done: ${c.did.join('; ') || 'nothing changed'}`, c.ok ? undefined : brief(c.failures[0]!));
  }

  private recordK8sFiles(): void {
    const vm = Object.entries(this.state.applied).filter(([, a]) => a.kind === 'vm');
    const k8s = this.input.now.filter((f) => f.kind === 'k8s').map((f) => [f.path, { sha256: f.sha256, kind: f.kind }] as const);
    this.state.applied = Object.fromEntries([...vm, ...k8s]);
    this.save();
  }

  /** The lab CA into every VM that does not trust it yet: its common provisioner again (containerd's certs.d, the system store). */
  private async trustCa(plan: UpPlan, c: UpResult['cluster'], step: (text: string) => void): Promise<void> {
    for (const vm of this.caStale(plan)) {
      const op: VmOp = { kind: 'provision', only: 'common' };
      const args = opArgs(vm, op, this.input.lab.cluster.provider);
      step(`${vm}: the lab CA (provisioner common)`);
      const ca = this.caSha();
      const hostKey = this.hostKeySha(vm);
      try {
        await this.share(plan.steps.find((s) => s.vm.name === vm)!.vm, false);
        await this.vagrant.machine(vm, args, (e) => e.kind === 'step' && step(`${vm}: ${e.text}`));
        this.ranCommon(vm, ca, hostKey);
        c.did.push(shown(args));
      } catch (e) {
        c.failures.push(failureOf(e, vm, 'common'));
        this.pend(vm, 'common');
      }
      this.save();
    }
  }

  private merge(result: UpResult): void {
    mergeAdmin(result, this.input.labDir, this.input.lab.name, this.input.mergeInto);
  }
}

/** Whenever the admin kubeconfig is there, even after a failure: kubectl is how one looks into it (VMs and existing hosts alike). */
export function mergeAdmin(result: UpResult, labDir: string, labName: string, mergeInto: string | undefined): void {
  const admin = join(labDir, ADMIN_KUBECONFIG);
  if (!mergeInto || !existsSync(admin)) return;
  try {
    result.merged = mergeKubeconfig(mergeInto, readFileSync(admin, 'utf8'), labName);
  } catch (e) {
    // checked before the run (checkKubeconfig); changed since, or not writable: the rest of the report still counts
    result.cluster.failures.push({ host: mergeInto, step: 'merge-kubeconfig', message: (e as Error).message });
    result.cluster.ok = false;
  }
}

export async function upLab(input: UpInput): Promise<UpResult> {
  return new UpRun(input).run();
}
