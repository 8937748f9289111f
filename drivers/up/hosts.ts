import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SECRETS_DIR } from '../../generator/common/layout.js';
import { shellQuote as q } from '../../generator/common/quote.js';
import { sha256 } from '../../generator/common/text.js';
import type { Lab } from '../../generator/model/defaults.js';
import { API_HOST, onService, type Vm, vms as vmsOf } from '../../generator/model/hosts.js';
import { APPLY_SCRIPT, CA_FILE } from '../../generator/plan/k8s/apply-script.js';
import { BASTION } from '../../generator/plan/support/cluster-hosts.js';
import { EXISTING_LAB_ROOT } from '../../generator/plan/vm/lab-root.js';
import { JOIN_FILE } from '../../generator/plan/vm/kubeadm-config.js';
import { SECRET } from '../../generator/secrets/paths.js';
import { commandOutcome, failureOf } from '../base/failure.js';
import type { KnownHostsFile } from '../base/known-hosts.js';
import { LocalRunner } from '../base/local.js';
import { pool } from '../base/pool.js';
import type { Progress } from '../base/progress.js';
import { ConnectError, type SshRunner } from '../base/ssh.js';
import { changes, type DesiredFile } from '../push/plan.js';
import { readRemoteState } from '../push/remote-state.js';
import { upload } from '../push/upload.js';
import { applyK8s, clusterSlot, waitReady } from './cluster.js';
import { confirmWithUp, HostReach, type Tunnel } from './reach.js';
import { ADMIN_KUBECONFIG, saveAdmin } from './kubeconfig.js';
import { decisionsSince, type FileNow, type UpPlan } from './plan.js';
import { readUpState, type UpState, writeUpState } from './state.js';
import { mergeAdmin, type UpResult, type UpTiming, type VmResult } from './up.js';
import { impact } from '../../generator/writer/impact.js';

/**
 * `labgen up` for a cluster on hosts that exist already (cluster.provider existing): no Vagrant,
 * the same provisioning scripts delivered and run over SSH (drivers/base: host keys always
 * checked; an unknown one is shown and confirmed on a terminal or by --fingerprint, then pinned
 * in .labgen/known_hosts, as `labgen adopt` does). In order:
 *   1. the bastion (cluster.ssh.bastion) when there is one, then every host: connected, its key checked;
 *   2. on every host at once: what of the lab folder it needs (provision/ with its own kubeadm
 *      config; the control plane the bootstrap token; the lab CA once there is one) into
 *      /var/lib/labgen/lab, only the files that differ, then common.sh;
 *   3. control-plane.sh on the control plane (kubeadm init, the CNI, the token with its 24 h TTL),
 *      its join file and the admin kubeconfig fetched;
 *   4. on every worker at once: the join file, then worker.sh (kubeadm join; a joined one changes nothing);
 *   5. the nodes Ready, k8s/apply.sh when k8s/ changed or the cluster is new, --merge-kubeconfig;
 *      when apply.sh saved the lab CA just now, common.sh again on every host (containerd trusts it).
 * Every script is idempotent and checks the host itself, so a second `up` changes nothing. A host
 * that is down or refused (its key changed) is reported and named; the others go on; a control
 * plane that fails skips the workers' join.
 */

export interface HostsTiming extends UpTiming {
  /** SSH connect + handshake + login */
  connectTimeoutMs: number;
}

export const DEFAULT_HOSTS_TIMING = { connectTimeoutMs: 15_000 } as const;

export interface HostsUpInput {
  labDir: string;
  lab: Lab;
  /** the VMs' files and k8s/'s as they are on disk (up to date: the caller checked) */
  now: FileNow[];
  /** the lab's SSH key (OpenSSH private key text): what labgen logs in with */
  privateKey: string;
  knownHosts: KnownHostsFile;
  /** --fingerprint, by host name (the bastion's: `lab-bastion`) */
  fingerprints: ReadonlyMap<string, string>;
  /** asks on a terminal whether a key shown for the first time is the host's; none: --fingerprint only */
  confirmKey?: (node: string, address: string, fingerprint: string) => Promise<boolean>;
  env?: Record<string, string>;
  timing: HostsTiming;
  progress: (hosts: string[]) => Progress;
  mergeInto?: string;
}

/** Where a host keeps what of the lab folder it needs. */
const onHost = (path: string) => `${EXISTING_LAB_ROOT}/${path}`;
const TOKEN = `${SECRETS_DIR}/${SECRET.kubeadmToken}`;

/** Every file of provision/ but the other hosts' kubeadm configs: what `vm` runs its scripts with. */
function provisionFiles(labDir: string, now: readonly FileNow[], vm: Vm): string[] {
  return now.filter((f) => f.kind === 'vm' && f.path.startsWith('provision/') && (!f.path.startsWith('provision/kubeadm/') || f.host === vm.name)).map((f) => f.path);
}

/** A file of the lab folder as it must be on a host: its bytes and mode as on disk (a kept hand edit counts), root's. */
function desired(labDir: string, path: string, mode?: number): DesiredFile {
  const content = readFileSync(join(labDir, path));
  return {
    path: onHost(path),
    content,
    sha256: sha256(content),
    mode: mode ?? statSync(join(labDir, path)).mode & 0o7777,
    owner: 'root:root',
    role: 'target',
    restart: [],
    network: false,
  };
}

/** The text of a file under the lab root on the host, as root. */
const catScript = (path: string) => `cat ${q(onHost(path))}`;

/** A script run as root with the lab's scripts folder as it is on the host. */
const script = (name: string, ...args: string[]) => `bash ${q(onHost(`provision/${name}`))} ${args.map(q).join(' ')}`;

class HostsRun {
  private progress!: Progress;
  private readonly local: LocalRunner;
  private readonly state: UpState;
  private readonly reach: HostReach;

  constructor(private readonly o: HostsUpInput) {
    this.local = new LocalRunner({ cwd: o.labDir, ...(o.env ? { env: o.env } : {}) });
    this.state = readUpState(o.labDir);
    this.reach = new HostReach({ ...o, connectTimeoutMs: o.timing.connectTimeoutMs, firstContact: confirmWithUp });
  }

  async run(): Promise<UpResult> {
    const { lab } = this.o;
    const hosts = vmsOf(lab);
    const bastionSlot = lab.cluster.ssh?.bastion ? [BASTION] : [];
    const slot = clusterSlot(hosts.map((h) => h.name));
    this.progress = this.o.progress([...bastionSlot, ...hosts.map((h) => h.name), slot]);
    const results = new Map<string, VmResult>(hosts.map((h) => [h.name, { vm: h.name, before: 'existing', did: [], why: [], ok: true, ms: 0 }]));
    const result: UpResult = { vms: [...results.values()], cluster: { slot, did: [], ok: false, failures: [] }, plan: emptyPlan(), notes: [], ok: false };
    const t0 = Date.now();
    const caBefore = existsSync(join(this.o.labDir, CA_FILE));
    try {
      const remotes = await this.connectAll(hosts, results);
      await this.provisionAll(hosts, remotes, results);
      for (const r of results.values()) r.ms = Date.now() - t0;
      if ([...results.values()].every((r) => r.ok)) {
        await this.clusterPhase(hosts, result);
        // k8s/apply.sh saved the lab CA just now: every host's containerd must trust it (common.sh installs it)
        if (result.cluster.ok && !caBefore && onService(lab, 'registry') && existsSync(join(this.o.labDir, CA_FILE))) await this.trustCa(hosts, remotes, result);
      } else {
        result.cluster.skipped = true;
        this.progress.done(slot, 'skipped: a host failed');
      }
      this.merge(result);
    } finally {
      await this.progress.end();
      this.reach.close();
      this.local.close();
    }
    result.ok = result.vms.every((r) => r.ok) && result.cluster.ok;
    return result;
  }

  private fail(r: VmResult, e: unknown, step: string): void {
    r.ok = false;
    r.failure = failureOf(e, r.vm, step);
  }

  // ---- connecting: every host's key checked; a new one confirmed, then pinned --------------

  private async connectAll(hosts: Vm[], results: Map<string, VmResult>): Promise<Map<string, SshRunner>> {
    const ssh = this.o.lab.cluster.ssh!;
    if (ssh.bastion) {
      const b = ssh.bastion;
      this.progress.start(BASTION, `connecting to ${b.address}`);
      try {
        await this.reach.openBastion();
        this.progress.done(BASTION, 'connected');
      } catch (e) {
        const f = failureOf(e, BASTION, 'connect');
        this.progress.done(BASTION, 'failed', `${f.step}: ${f.message}`);
        for (const r of results.values()) this.fail(r, new ConnectError(r.vm, 'the bastion', new Error(`not reached: the bastion ${b.address} failed: ${f.message}`)), 'connect');
        return new Map();
      }
    }
    const remotes = new Map<string, SshRunner>();
    const one = async (h: Vm) => {
      this.progress.start(h.name, `connecting to ${h.ip}${this.reach.bastion ? ` through ${BASTION}` : ''}`);
      try {
        const r = await this.reach.connect(h.name, h.ip);
        remotes.set(h.name, r);
      } catch (e) {
        this.fail(results.get(h.name)!, e, 'connect');
        const f = results.get(h.name)!.failure!;
        this.progress.done(h.name, 'failed', `${f.step}: ${f.message}`);
      }
    };
    // on a terminal one at a time: each may ask about its key
    await pool(hosts, this.o.confirmKey ? 1 : 16, one);
    return remotes;
  }

  // ---- provisioning ------------------------------------------------------------------------

  /** What `vm` gets of the lab folder: provision/, the token (the control plane), the lab CA when there is one. */
  private filesFor(vm: Vm): DesiredFile[] {
    const { labDir, now } = this.o;
    const files = provisionFiles(labDir, now, vm).map((p) => desired(labDir, p));
    if (vm.role === 'control-plane') files.push(desired(labDir, TOKEN, 0o600));
    if (existsSync(join(labDir, CA_FILE))) files.push(desired(labDir, CA_FILE, 0o644));
    return files;
  }

  /** Only the files the host does not hold as they are (one listing, one upload). */
  private async deliver(r: SshRunner, files: DesiredFile[], did: string[]): Promise<void> {
    const state = await readRemoteState(r, files.map((f) => f.path));
    const cs = changes(files, state).map((c) => c.file);
    if (!cs.length) return;
    await upload(r, cs, {}, 'deliver');
    did.push(`delivered ${cs.length} file(s)`);
  }

  /** A script as root; its lines go to the progress view, what it says it changed (`NAME: changed: …`) to the result. */
  private async runScript(vm: string, r: SshRunner, name: string, args: string[], res: VmResult): Promise<void> {
    this.progress.step(vm, name);
    const out = await r.run(name, `${name} ${args.join(' ')}`, script(name, ...args), { onLine: (l) => this.progress.step(vm, `${name}: ${l}`) });
    res.did.push(...out.split('\n').filter((l) => /^[^:]+: changed: /.test(l)));
  }

  private async provisionAll(hosts: Vm[], remotes: Map<string, SshRunner>, results: Map<string, VmResult>): Promise<void> {
    const cp = hosts.find((h) => h.role === 'control-plane')!;
    const workers = hosts.filter((h) => h.role === 'worker');
    const step = async (h: Vm, what: string, fn: (r: SshRunner, res: VmResult) => Promise<void>) => {
      const res = results.get(h.name)!;
      const r = remotes.get(h.name);
      if (!r || !res.ok) return;
      try {
        await fn(r, res);
      } catch (e) {
        this.fail(res, e, what);
        this.progress.done(h.name, 'failed', `${res.failure!.step}: ${res.failure!.command ? commandOutcome(res.failure!.command, res.failure!.code) : res.failure!.message}`);
      }
    };
    // every host at once: its files, then common.sh
    await pool(hosts, 16, (h) =>
      step(h, 'deliver', async (r, res) => {
        this.progress.step(h.name, 'delivering provision/');
        await this.deliver(r, this.filesFor(h), res.did);
        await this.runScript(h.name, r, 'common.sh', [h.name, h.ip], res);
      }),
    );
    // the control plane: kubeadm init (once), the CNI, the token; then its join file and admin kubeconfig
    let join: Buffer | undefined;
    await step(cp, 'control-plane.sh', async (r, res) => {
      await this.runScript(cp.name, r, 'control-plane.sh', [cp.name], res);
      join = Buffer.from(await r.run('fetch', `cat ${onHost(JOIN_FILE)}`, catScript(JOIN_FILE)));
      if (saveAdmin(this.o.labDir, await r.run('fetch', `cat ${onHost(ADMIN_KUBECONFIG)}`, catScript(ADMIN_KUBECONFIG)))) res.did.push(`${ADMIN_KUBECONFIG} (0600)`);
      this.progress.done(cp.name, `done: ${summary(res)}`);
    });
    const cpRes = results.get(cp.name)!;
    // the workers at once, once the control plane is up: the join file (0600), then worker.sh
    await pool(workers, 16, async (w) => {
      const res = results.get(w.name)!;
      if (!cpRes.ok) {
        if (res.ok && remotes.has(w.name)) {
          res.skipped = true;
          res.ok = false;
          res.failure = { host: w.name, step: 'worker.sh', message: `not joined: the control plane ${cp.name} failed` };
          this.progress.done(w.name, 'skipped: the control plane failed');
        }
        return;
      }
      await step(w, 'worker.sh', async (r, res2) => {
        const file: DesiredFile = { path: onHost(JOIN_FILE), content: join!, sha256: sha256(join!), mode: 0o600, owner: 'root:root', role: 'target', restart: [], network: false };
        await this.deliver(r, [file], res2.did);
        await this.runScript(w.name, r, 'worker.sh', [w.name], res2);
        this.progress.done(w.name, `done: ${summary(res2)}`);
      });
    });
  }

  /** The lab CA into every host: its files again (the CA among them), then common.sh. */
  private async trustCa(hosts: Vm[], remotes: Map<string, SshRunner>, result: UpResult): Promise<void> {
    const c = result.cluster;
    await pool(hosts, 16, async (h) => {
      this.progress.step(c.slot, `${h.name}: the lab CA (common.sh)`);
      const res = result.vms.find((v) => v.vm === h.name)!;
      try {
        await this.deliver(remotes.get(h.name)!, this.filesFor(h), res.did);
        await this.runScript(h.name, remotes.get(h.name)!, 'common.sh', [h.name, h.ip], res);
        c.did.push(`${h.name}: the lab CA`);
      } catch (e) {
        c.failures.push(failureOf(e, h.name, 'common.sh (the lab CA)'));
        c.ok = false;
      }
    });
  }

  // ---- the cluster -------------------------------------------------------------------------

  private async clusterPhase(hosts: Vm[], result: UpResult): Promise<void> {
    const c = result.cluster;
    const step = (text: string) => this.progress.step(c.slot, text);
    const kubeconfig = join(this.o.labDir, ADMIN_KUBECONFIG);
    const hostsChanged = result.vms.some((v) => v.did.length > 0);
    const k8s = this.o.now.filter((f) => f.kind === 'k8s');
    // k8s/checks/ alone (a lab without services): no apply.sh, nothing to install
    const apply = k8s.some((f) => f.path === APPLY_SCRIPT);
    const k8sChanged = apply && impact(decisionsSince(Object.fromEntries(Object.entries(this.state.applied).filter(([, a]) => a.kind === 'k8s')), k8s)).groups.some(
      (g) => g.kind === 'k8s' && g.actions.some((a) => a.do === 'k8s-apply'),
    );
    const newCluster = result.vms.some((v) => v.did.some((d) => d.includes('kubeadm init')));
    if (!hostsChanged && !k8sChanged && !newCluster) {
      c.ok = true;
      this.progress.done(c.slot, 'nothing to do');
      return;
    }
    this.progress.start(c.slot, 'nodes Ready');
    let current = 'nodes Ready';
    let tunnel: Tunnel | undefined;
    try {
      tunnel = await this.reach.apiTunnel(kubeconfig);
    } catch (e) {
      c.failures.push(failureOf(e, c.slot, 'API tunnel'));
      this.progress.done(c.slot, 'failed', c.failures[0]!.message);
      return;
    }
    const kc = tunnel?.kubeconfig ?? kubeconfig;
    try {
      const nodes = hosts.map((h) => h.name);
      await waitReady(this.local, kc, nodes, this.o.timing, step, `${API_HOST}.${this.o.lab.domain}`);
      c.did.push(`nodes Ready: ${nodes.join(', ')}`);
      if (apply && (k8sChanged || newCluster)) {
        current = 'k8s/apply.sh';
        step('k8s/apply.sh');
        await applyK8s(this.local, this.o.labDir, kc, step);
        const vm = Object.entries(this.state.applied).filter(([, a]) => a.kind === 'vm');
        this.state.applied = Object.fromEntries([...vm, ...k8s.map((f) => [f.path, { sha256: f.sha256, kind: f.kind }] as const)]);
        writeUpState(this.o.labDir, this.state);
        c.did.push('k8s/apply.sh');
      }
      c.ok = true;
      this.progress.done(c.slot, `done: ${c.did.join('; ')}`);
    } catch (e) {
      c.failures.push(failureOf(e, c.slot, current));
      this.progress.done(c.slot, 'failed', c.failures[0]!.message);
    } finally {
      tunnel?.close();
    }
  }

  private merge(result: UpResult): void {
    mergeAdmin(result, this.o.labDir, this.o.lab.name, this.o.mergeInto);
  }
}

const summary = (r: VmResult) => (r.did.length ? `${r.did.length} change(s)` : 'nothing to change');

const emptyPlan = (): UpPlan => ({ steps: [], refreshToken: false, deletes: [], k8sApply: false, actions: [], notes: [] });

export async function upHosts(input: HostsUpInput): Promise<UpResult> {
  return new HostsRun(input).run();
}
