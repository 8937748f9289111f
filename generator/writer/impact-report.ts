import type { FileKind } from '../plan/file-spec.js';
import { type Change, type ChangedFile, type Impact, type ImpactGroup, type NextAction, sorted } from './impact.js';
import { paint } from './report.js';

/** The impact (impact.ts: typed actions) as the commands a person runs, and as a terminal report. */

const names = (xs: string[]) => (xs.length ? ` ${xs.join(' ')}` : '');

/** What `labgen up` carries out (drivers/up/ reads the same actions), with the step it takes. */
const viaUp = (step: string) => `labgen up (${step})`;

/** The command for one action. */
export function actionText(a: NextAction): string {
  switch (a.do) {
    case 'image':
      return `labgen image${names(a.pis)} --base <Raspberry Pi OS image> and flash it, or labgen adopt${names(a.pis)} (README.md, step 4)`;
    case 'push':
      return `labgen push${names(a.pis)}`;
    case 'vm-up':
      return viaUp(a.ssh ? `provision/ over SSH, kubeadm join${names(a.vms)}` : `vagrant up${names(a.vms)}`);
    case 'vm-provision':
      if (a.ssh) return viaUp(`provision/ over SSH${names(a.vms)}`);
      return viaUp(a.reload ? `vagrant reload --provision${names(a.vms)}` : `vagrant provision${names(a.vms)}`);
    case 'node-delete':
      return viaUp(`kubectl delete node ${a.vm}`);
    case 'k8s-apply':
      return viaUp('k8s/apply.sh');
    case 'slurm-reconfigure':
      return a.on ? `ssh -F laptop/ssh_config ${a.on} sudo scontrol reconfigure` : 'scontrol reconfigure';
    case 'copy-hosts':
      if (a.unix && a.windows) return 'copy laptop/hosts into /etc/hosts (Windows: laptop/hosts.windows)';
      return a.unix ? 'copy laptop/hosts into /etc/hosts' : 'Windows: copy laptop/hosts.windows into C:\\Windows\\System32\\drivers\\etc\\hosts';
  }
}

/** A group's commands, in order. */
export const groupSteps = (g: ImpactGroup): string[] => g.actions.map(actionText);

/** Every step, in order. */
export function nextSteps(imp: Impact): string[] {
  return imp.fresh ? ['follow README.md ("Bring it up, in order")'] : imp.groups.flatMap(groupSteps);
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
    lines.push(`  ${paint('bold', TITLE[g.kind].padEnd(pad), tty)} ${g.actions.length ? groupSteps(g).join('; ') : 'nothing to do'}`);
    for (const n of g.notes) lines.push(`${indent}${paint('gray', n, tty)}`);
    if (g.kind === 'pi') {
      // Pis with the same changes share a line: "node01 node02 node04  /etc/hosts"
      const byHost = new Map<string, ChangedFile[]>(); // one pass: a 10,000-Pi change is not 10,000 scans
      for (const f of g.files) byHost.set(f.host!, [...(byHost.get(f.host!) ?? []), f]);
      const rows = new Map<string, string[]>();
      for (const h of sorted(byHost.keys())) {
        const list = fileList(byHost.get(h)!, (f) => f.target ?? f.path.slice(`pis/${h}/`.length));
        const row = rows.get(list);
        if (row) row.push(h);
        else rows.set(list, [h]);
      }
      const width = Math.max(...[...rows.values()].map((hs) => hs.join(' ').length));
      for (const [list, hs] of rows) lines.push(`${indent}${hs.join(' ').padEnd(width)}  ${list}`);
    } else lines.push(`${indent}${fileList(g.files, (f) => f.path)}`);
  }
  const steps = nextSteps(imp);
  if (steps.length) lines.push(`${paint('bold', 'next:', tty)} ${steps.join('; ')}`);
  return lines;
}
