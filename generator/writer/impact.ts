import type { FileKind } from '../plan/file-spec.js';
import type { Decision } from './decide.js';
import { paint } from './report.js';

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
 */

export type Change = 'create' | 'update' | 'remove';

export interface ChangedFile {
  path: string;
  action: Change;
  host?: string;
  /** a Pi file's path on the Pi */
  target?: string;
}

export interface ImpactGroup {
  kind: FileKind;
  /** commands to run next for this group, in order (none for docs) */
  steps: string[];
  /** why, and what else to know */
  notes: string[];
  /** the hosts the steps act on (Pis to push, VMs to provision); empty: the group as a whole */
  hosts: string[];
  files: ChangedFile[];
}

export interface Impact {
  /** every change is a new file and nothing else exists: a new lab folder, README.md has the steps */
  fresh: boolean;
  /** in the order the steps should run: pi, vm, k8s, slurm, laptop, doc; only groups with a change */
  groups: ImpactGroup[];
}

const ORDER: FileKind[] = ['pi', 'vm', 'k8s', 'slurm', 'laptop', 'doc'];

// one collator: `localeCompare` with options builds a new one per call (11 ms of a 5-Pi generate)
const byName = new Intl.Collator('en', { numeric: true }).compare;
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort(byName);

/** Kind and host of a lab folder path, for orphans (no FileSpec) and as the fallback. */
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
  return d.spec ? { kind: d.spec.kind, host: d.spec.host } : kindOfPath(d.path);
}

const isChange = (d: Decision): d is Decision & { action: Change } => d.action === 'create' || d.action === 'update' || d.action === 'remove';
const PI_HOSTS_FILE = /^pis\/[^/]+\/rootfs\/etc\/hosts$/;

interface Ctx {
  all: Decision[];
  changed: (ChangedFile & { kind: FileKind })[];
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
  return { planned: sorted(planned.keys()), fresh, gone, changedHosts };
}

function piGroup(ctx: Ctx, files: ChangedFile[]): ImpactGroup {
  const { planned, fresh, gone, changedHosts } = hostSets(ctx, 'pi');
  const running = (h: string) => !fresh.includes(h) && !gone.includes(h);
  const hostsChanged = files.some((f) => f.action !== 'remove' && PI_HOSTS_FILE.test(f.path) && running(f.host!));
  const push = (hostsChanged ? planned : changedHosts).filter(running);
  const steps: string[] = [];
  const notes: string[] = [];
  if (fresh.length) {
    steps.push(`labgen image ${fresh.join(' ')} --base raspios.img`);
    notes.push(`new Pi${fresh.length > 1 ? 's' : ''} ${fresh.join(', ')}: flash the image and boot it (push reaches a Pi once it runs)`);
  }
  if (push.length) steps.push(`labgen push ${push.join(' ')}`);
  if (hostsChanged && push.length > 1) notes.push("every Pi: the lab's /etc/hosts changed");
  for (const h of gone) notes.push(`${h} left the lab: its files were removed; nothing to push (shut it down)`);
  return { kind: 'pi', steps, notes, hosts: push, files };
}

function vmGroup(ctx: Ctx, files: ChangedFile[]): ImpactGroup {
  const { fresh, gone } = hostSets(ctx, 'vm');
  const shared = files.filter((f) => !f.host);
  const own = sorted(files.filter((f) => f.host && !fresh.includes(f.host) && !gone.includes(f.host)).map((f) => f.host!));
  const reload = files.some((f) => f.path === 'Vagrantfile' && f.action === 'update');
  const steps: string[] = [];
  const notes: string[] = [];
  if (fresh.length) steps.push(`vagrant up ${fresh.join(' ')}`);
  const hosts = shared.length ? [] : own;
  if (shared.length || own.length) {
    const which = hosts.length ? ` ${hosts.join(' ')}` : '';
    steps.push(reload ? `vagrant reload --provision${which}` : `vagrant provision${which} (or labgen up)`);
    if (reload) notes.push('the Vagrantfile changed: addresses, CPUs and memory take a VM restart');
  }
  for (const h of gone) {
    steps.push(`kubectl delete node ${h}`);
    notes.push(`${h} left the lab: delete the VM too (\`vagrant destroy -f ${h}\` works only while the Vagrantfile still names it: before \`labgen generate\`)`);
  }
  return { kind: 'vm', steps, notes, hosts, files };
}

function k8sGroup(ctx: Ctx, files: ChangedFile[], viaSlurm: boolean): ImpactGroup {
  const notes: string[] = [];
  if (viaSlurm) notes.push("slurm/ is slurmctld's ConfigMap (k8s/slurm/): re-apply before reconfiguring Slurm");
  const plannedDirs = new Set(ctx.all.filter((d) => d.spec && d.path.startsWith('k8s/')).map((d) => d.path.split('/')[1]));
  const goneDirs = sorted(files.filter((f) => f.action === 'remove' && f.path.split('/').length > 2).map((f) => f.path.split('/')[1]!));
  for (const dir of goneDirs.filter((x) => !plannedDirs.has(x)))
    notes.push(
      `k8s/${dir}/ is gone: apply does not delete its objects; before \`labgen generate\`: kubectl kustomize --load-restrictor LoadRestrictionsNone k8s/${dir} | kubectl delete -f -`,
    );
  return { kind: 'k8s', steps: plannedDirs.size ? ['k8s/apply.sh'] : [], notes, hosts: [], files };
}

/** A Pi scontrol can run on: the controller Pi, else the first Slurm compute Pi. */
function slurmPi(ctx: Ctx): string | undefined {
  const hostOf = (re: RegExp) => sorted(ctx.all.filter((d) => d.spec && re.test(d.path)).map((d) => d.spec!.host ?? kindOfPath(d.path).host!))[0];
  return hostOf(/^pis\/[^/]+\/rootfs\/etc\/slurm\/slurm\.conf$/) ?? hostOf(/^pis\/[^/]+\/rootfs\/etc\/default\/slurmd$/);
}

function slurmGroup(ctx: Ctx, files: ChangedFile[]): ImpactGroup {
  const pi = slurmPi(ctx);
  const step = pi ? `ssh -F laptop/ssh_config ${pi} sudo scontrol reconfigure` : 'scontrol reconfigure';
  return { kind: 'slurm', steps: [step], notes: ['configless slurmds fetch the new slurm.conf from slurmctld'], hosts: [], files };
}

function laptopGroup(files: ChangedFile[]): ImpactGroup {
  const hosts = files.some((f) => f.path.startsWith('laptop/hosts'));
  const notes = files.some((f) => f.path === 'laptop/ssh_config') ? ['laptop/ssh_config is read in place (ssh -F laptop/ssh_config NODE): copy it again only if you copied it'] : [];
  return { kind: 'laptop', steps: hosts ? ['copy laptop/hosts into /etc/hosts (Windows: laptop/hosts.windows)'] : [], notes, hosts: [], files };
}

export function impact(decisions: readonly Decision[]): Impact {
  const all = [...decisions];
  const changed = all.filter(isChange).map((d) => {
    const c = classify(d);
    return { path: d.path, action: d.action, kind: c.kind, ...(c.host ? { host: c.host } : {}), ...(d.spec?.target ? { target: d.spec.target.path } : {}) };
  });
  const ctx: Ctx = { all, changed };
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
    if (kind === 'doc' && files.length) groups.push({ kind: 'doc', steps: [], notes: [], hosts: [], files });
  }
  const fresh = changed.length > 0 && all.every((d) => d.action === 'create');
  return { fresh, groups };
}

/** Every step, in order. */
export function nextSteps(imp: Impact): string[] {
  return imp.fresh ? ['follow README.md ("Bring it up, in order")'] : imp.groups.flatMap((g) => g.steps);
}

const TITLE: Record<FileKind, string> = { pi: 'Pis', vm: 'VMs', k8s: 'k8s/', slurm: 'Slurm', laptop: 'laptop', doc: 'docs' };
const MARK: Record<Change, string> = { create: '+', update: '', remove: '-' };

function fileList(files: ChangedFile[], name: (f: ChangedFile) => string): string {
  return files.map((f) => `${MARK[f.action]}${name(f)}`).join(', ');
}

/** The impact as a terminal report: a block per group, then one `next:` line (nothing when no change). */
export function impactLines(imp: Impact, tty: boolean, heading = 'what next:'): string[] {
  if (!imp.groups.length) return [];
  const pad = 9;
  const lines: string[] = [paint('bold', heading, tty)];
  if (imp.fresh) {
    lines.push(`  a new lab folder: ${nextSteps(imp)[0]}`);
    return lines;
  }
  const indent = ' '.repeat(pad + 3);
  for (const g of imp.groups) {
    lines.push(`  ${paint('bold', TITLE[g.kind].padEnd(pad), tty)} ${g.steps.length ? g.steps.join('; ') : 'nothing to do'}`);
    for (const n of g.notes) lines.push(`${indent}${paint('gray', n, tty)}`);
    if (g.kind === 'pi') {
      // Pis with the same changes share a line: "node01 node02 node04  /etc/hosts"
      const rows = new Map<string, string[]>();
      for (const h of sorted(g.files.map((f) => f.host!))) {
        const list = fileList(
          g.files.filter((f) => f.host === h),
          (f) => f.target ?? f.path.slice(`pis/${h}/`.length),
        );
        rows.set(list, [...(rows.get(list) ?? []), h]);
      }
      const width = Math.max(...[...rows.values()].map((hs) => hs.join(' ').length));
      for (const [list, hs] of rows) lines.push(`${indent}${hs.join(' ').padEnd(width)}  ${list}`);
    } else lines.push(`${indent}${fileList(g.files, (f) => f.path)}`);
  }
  const steps = nextSteps(imp);
  if (steps.length) lines.push(`${paint('bold', 'next:', tty)} ${steps.join('; ')}`);
  return lines;
}
