import type { FileKind } from '../plan/file-spec.js';
import type { Decision } from './decide.js';

/**
 * What must happen after a change is written, from the decisions alone (pure: no fs, no lab).
 * Files are grouped by FileSpec.kind and host (for an orphan, which has no spec, both are read
 * from its path):
 *
 *   pi      push each Pi with a changed file; a changed /etc/hosts on any Pi means every Pi.
 *           A Pi whose files are all new is not running yet: it gets an image instead.
 *           A Pi whose files were all removed left the lab: nothing to push.
 *   vm      re-provision the VMs (`vagrant provision`, or `vagrant reload --provision` when the
 *           Vagrantfile changed: addresses, CPUs and memory take a restart); only the VMs named
 *           when just their own kubeadm config changed; `vagrant up` for new VMs; a removed VM
 *           is deleted from the cluster.
 *   k8s     re-apply k8s/ (k8s/apply.sh); a folder gone from k8s/ is not deleted by apply.
 *   slurm   `scontrol reconfigure` (configless slurmds fetch the new slurm.conf); with slurmctld
 *           in the cluster slurm/ is its ConfigMap, so k8s/ is re-applied first.
 *   laptop  copy laptop/hosts into /etc/hosts (Windows: hosts.windows); ssh_config is read in place.
 *   doc     nothing.
 * Only create/update/remove count: identical files, conflicts and kept files are not written.
 * The result is data (typed actions a driver such as `labgen up` can carry out); impact-report.ts
 * turns it into the commands a person runs.
 */

export type Change = 'create' | 'update' | 'remove';

export interface ChangedFile {
  path: string;
  action: Change;
  host?: string;
  /** a Pi file's path on the Pi */
  target?: string;
}

/** One thing to do next, as data. `vms: []` in vm-provision: every VM. */
export type NextAction =
  | { do: 'image'; pis: string[] }
  | { do: 'push'; pis: string[] }
  /** `ssh`: existing hosts (no Vagrantfile): labgen up provisions them over SSH */
  | { do: 'vm-up'; vms: string[]; ssh?: true }
  | { do: 'vm-provision'; vms: string[]; reload: boolean; ssh?: true }
  | { do: 'node-delete'; vm: string }
  | { do: 'k8s-apply' }
  | { do: 'slurm-reconfigure'; on?: string }
  | { do: 'copy-hosts'; unix: boolean; windows: boolean };

export interface ImpactGroup {
  kind: FileKind;
  /** what to do next for this group, in order (nothing for docs) */
  actions: NextAction[];
  /** why, and what else to know */
  notes: string[];
  /** the hosts the actions act on (Pis to push, VMs to provision); empty: the group as a whole */
  hosts: string[];
  files: ChangedFile[];
}

export interface Impact {
  /** every change is a new file and nothing else exists: a new lab folder, README.md has the steps */
  fresh: boolean;
  /** in the order the actions should run: pi, vm, k8s, slurm, laptop, doc; only groups with a change */
  groups: ImpactGroup[];
}

const ORDER: FileKind[] = ['pi', 'vm', 'k8s', 'slurm', 'laptop', 'doc'];

// one collator: `localeCompare` with options builds a new one per call (11 ms of a 5-Pi generate)
const byName = new Intl.Collator('en', { numeric: true }).compare;
/** Host names, unique, in natural order (node2 before node10). */
export const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort(byName);

/** Kind and host of a lab folder path, for an orphan of a manifest from before labgen recorded them. */
export function kindOfPath(path: string): { kind: FileKind; host?: string } {
  const pi = /^pis\/([^/]+)\//.exec(path);
  if (pi) return { kind: 'pi', host: pi[1] };
  const vm = /^provision\/kubeadm\/([^/]+)\.yaml$/.exec(path);
  if (vm) return { kind: 'vm', host: vm[1] };
  if (path === 'Vagrantfile' || path.startsWith('provision/')) return { kind: 'vm' };
  if (path.startsWith('k8s/')) return { kind: 'k8s' };
  if (path.startsWith('slurm/')) return { kind: 'slurm' };
  if (path.startsWith('laptop/')) return { kind: 'laptop' };
  return { kind: 'doc' };
}

function classify(d: Decision): { kind: FileKind; host?: string } {
  // an orphan has no spec: the manifest recorded what it was (kindOfPath only for old manifests)
  return d.spec ? { kind: d.spec.kind, host: d.spec.host } : (d.was ?? kindOfPath(d.path));
}

const isChange = (d: Decision): d is Decision & { action: Change } => d.action === 'create' || d.action === 'update' || d.action === 'remove';

interface Ctx {
  all: Decision[];
  changed: (ChangedFile & { kind: FileKind })[];
  /** cluster hosts a day-2 command took out of the cluster already (`labgen node remove`): nothing left to do for them */
  left: ReadonlySet<string>;
}

/** Hosts of `kind` among planned files, and which of them are new (every planned file created) or gone. */
function hostSets(ctx: Ctx, kind: FileKind) {
  const planned = new Map<string, Decision[]>();
  for (const d of ctx.all) {
    const c = classify(d);
    if (d.spec && c.kind === kind && c.host) planned.set(c.host, [...(planned.get(c.host) ?? []), d]);
  }
  const fresh = sorted([...planned].filter(([, ds]) => ds.every((d) => d.action === 'create')).map(([h]) => h));
  const changedHosts = sorted(ctx.changed.filter((f) => f.kind === kind && f.host).map((f) => f.host!));
  const gone = changedHosts.filter((h) => !planned.has(h));
  // a Set: a 10,000-Pi lab asks once per file
  const notRunning = new Set([...fresh, ...gone]);
  return { planned: sorted(planned.keys()), fresh, gone, changedHosts, running: (h: string) => !notRunning.has(h) };
}

function piGroup(ctx: Ctx, files: ChangedFile[]): ImpactGroup {
  const { planned, fresh, gone, changedHosts, running } = hostSets(ctx, 'pi');
  const hostsChanged = files.some((f) => f.action !== 'remove' && f.target === '/etc/hosts' && running(f.host!));
  const push = (hostsChanged ? planned : changedHosts).filter(running);
  const actions: NextAction[] = [];
  const notes: string[] = [];
  if (fresh.length) {
    actions.push({ do: 'image', pis: fresh });
    notes.push(`new Pi${fresh.length > 1 ? 's' : ''} ${fresh.join(', ')}: flash the image and boot it (push reaches a Pi once it runs)`);
  }
  if (push.length) actions.push({ do: 'push', pis: push });
  if (hostsChanged && push.length > 1) notes.push("every Pi: the lab's /etc/hosts changed");
  for (const h of gone) notes.push(`${h} left the lab: its files were removed; nothing to push (shut it down)`);
  return { kind: 'pi', actions, notes, hosts: push, files };
}

function vmGroup(ctx: Ctx, files: ChangedFile[]): ImpactGroup {
  const { fresh, running } = hostSets(ctx, 'vm');
  const gone = hostSets(ctx, 'vm').gone.filter((h) => !ctx.left.has(h));
  const shared = files.filter((f) => !f.host);
  const own = sorted(files.filter((f) => f.host && running(f.host)).map((f) => f.host!));
  const reload = files.some((f) => f.path === 'Vagrantfile' && f.action === 'update');
  // hosts that exist already (cluster.provider existing) have provision/ but no Vagrantfile
  const ssh = ctx.all.some((d) => d.spec && d.path.startsWith('provision/')) && !ctx.all.some((d) => d.spec && d.path === 'Vagrantfile');
  const actions: NextAction[] = [];
  const notes: string[] = [];
  if (fresh.length) actions.push({ do: 'vm-up', vms: fresh, ...(ssh ? { ssh } : {}) });
  const hosts = shared.length ? [] : own;
  if (shared.length || own.length) {
    actions.push({ do: 'vm-provision', vms: hosts, reload, ...(ssh ? { ssh } : {}) });
    if (reload) notes.push('the Vagrantfile changed: addresses, CPUs and memory take a VM restart');
  }
  if (ssh) {
    // labgen up does not take an existing host out of the cluster (labgen node remove does, while lab.yaml names it)
    for (const h of gone)
      notes.push(`${h} left the lab: take it out of the cluster: \`kubectl delete node ${h}\`, then \`kubeadm reset\` on the host (\`labgen node remove ${h}\` does both and edits lab.yaml, run before lab.yaml loses it)`);
    return { kind: 'vm', actions, notes, hosts, files };
  }
  for (const h of gone) {
    actions.push({ do: 'node-delete', vm: h });
    notes.push(`${h} left the lab: delete the VM too (\`vagrant destroy -f ${h}\` works only while the Vagrantfile still names it: before \`labgen generate\`)`);
  }
  return { kind: 'vm', actions, notes, hosts, files };
}

function k8sGroup(ctx: Ctx, files: ChangedFile[], viaSlurm: boolean): ImpactGroup {
  const notes: string[] = [];
  if (viaSlurm) notes.push("slurm/ is slurmctld's ConfigMap (k8s/slurm/): re-apply before reconfiguring Slurm");
  const plannedDirs = new Set(ctx.all.filter((d) => d.spec && d.path.startsWith('k8s/')).map((d) => d.path.split('/')[1]));
  const goneDirs = sorted(files.filter((f) => f.action === 'remove' && f.path.split('/').length > 2).map((f) => f.path.split('/')[1]!));
  for (const dir of goneDirs.filter((x) => !plannedDirs.has(x)))
    notes.push(
      `k8s/${dir}/ is gone: apply does not delete its objects; before \`labgen generate\`: kubectl kustomize k8s/${dir} | kubectl delete -f -`,
    );
  return { kind: 'k8s', actions: plannedDirs.size ? [{ do: 'k8s-apply' }] : [], notes, hosts: [], files };
}

/** A Pi scontrol can run on: the controller Pi, else the first Slurm compute Pi. */
function slurmPi(ctx: Ctx): string | undefined {
  const hostOf = (target: string) => sorted(ctx.all.flatMap((d) => (d.spec?.target?.path === target && d.spec.host ? [d.spec.host] : [])))[0];
  return hostOf('/etc/slurm/slurm.conf') ?? hostOf('/etc/default/slurmd');
}

function slurmGroup(ctx: Ctx, files: ChangedFile[]): ImpactGroup {
  const on = slurmPi(ctx);
  return { kind: 'slurm', actions: [{ do: 'slurm-reconfigure', ...(on ? { on } : {}) }], notes: ['configless slurmds fetch the new slurm.conf from slurmctld'], hosts: [], files };
}

function laptopGroup(files: ChangedFile[]): ImpactGroup {
  // a step only for the hosts files that changed (a kept one is not labgen's to send)
  const changed = (path: string) => files.some((f) => f.path === path && f.action !== 'remove');
  const [unix, windows] = [changed('laptop/hosts'), changed('laptop/hosts.windows')];
  const notes = files.some((f) => f.path === 'laptop/ssh_config') ? ['laptop/ssh_config is read in place (ssh -F laptop/ssh_config NODE): copy it again only if you copied it'] : [];
  return { kind: 'laptop', actions: unix || windows ? [{ do: 'copy-hosts', unix, windows }] : [], notes, hosts: [], files };
}

/** A kept file that misses a change, named in its group: the steps do not send the user to it. */
function staleNotes(decisions: readonly Decision[], kind: FileKind): string[] {
  return decisions
    .filter((d) => d.action === 'kept' && d.stale && classify(d).kind === kind)
    .map((d) => `${d.path} is kept as edited by hand and misses this change: bring it up to date first (\`labgen generate --dry-run\` shows the diff; --force overwrites it)`);
}

export function impact(decisions: readonly Decision[], left: ReadonlySet<string> = new Set()): Impact {
  const all = [...decisions];
  const changed = all.filter(isChange).map((d) => {
    const c = classify(d);
    return { path: d.path, action: d.action, kind: c.kind, ...(c.host ? { host: c.host } : {}), ...(d.spec?.target ? { target: d.spec.target.path } : {}) };
  });
  const ctx: Ctx = { all, changed, left };
  const of = (kind: FileKind): ChangedFile[] => changed.filter((f) => f.kind === kind).map(({ kind: _, ...f }) => f);

  // a Slurm change reaches slurmctld in the cluster only through k8s/slurm/'s ConfigMap
  const slurmInK8s = of('slurm').length > 0 && all.some((d) => d.spec && d.path === 'k8s/slurm/kustomization.yaml');
  const groups: ImpactGroup[] = [];
  for (const kind of ORDER) {
    const files = of(kind);
    if (kind === 'pi' && files.length) groups.push(piGroup(ctx, files));
    if (kind === 'vm' && files.length) groups.push(vmGroup(ctx, files));
    if (kind === 'k8s' && (files.length || slurmInK8s)) groups.push(k8sGroup(ctx, files, slurmInK8s));
    if (kind === 'slurm' && files.length) groups.push(slurmGroup(ctx, files));
    if (kind === 'laptop' && files.length) groups.push(laptopGroup(files));
    if (kind === 'doc' && files.length) groups.push({ kind: 'doc', actions: [], notes: [], hosts: [], files });
  }
  for (const g of groups) g.notes.push(...staleNotes(all, g.kind));
  const fresh = changed.length > 0 && all.every((d) => d.action === 'create');
  return { fresh, groups };
}
