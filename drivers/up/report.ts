import type { Lab } from '../../generator/model/defaults.js';
import { onExistingHosts } from '../../generator/model/hosts.js';
import { failureLines } from '../base/failure.js';
import { table } from '../base/table.js';
import { endpointLines } from './endpoints.js';
import type { UpResult } from './up.js';

/**
 * What `labgen up` prints at the end: a line per VM and one for the cluster, the notes, the merged
 * kubeconfig; then where it failed, each failure with its VM, step and tail; or else the endpoints.
 */

const STATE: Record<string, string> = { not_created: 'not created' };

export function upTable(r: UpResult): string[] {
  const vmRows = r.vms.map((v) => [
    v.vm,
    STATE[v.before] ?? v.before,
    v.did.length ? v.did.join('; ') : '-',
    v.skipped ? 'skipped' : v.ok ? 'ok' : `FAILED (${v.failure?.step ?? '?'})`,
  ]);
  const c = r.cluster;
  const cluster = [c.slot, '-', c.did.length ? c.did.join('; ') : '-', c.skipped ? 'skipped' : c.ok ? 'ok' : `FAILED (${c.failures[0]?.step ?? '?'})`];
  return table(['host', 'before', 'did', 'result'], [...vmRows, cluster]);
}

/** Where up failed, each once, in the order it ran: the VMs, then `the cluster` (its own steps) or the VM or file a cluster step failed on (a VM's lab CA, the merged kubeconfig). */
export function failedHosts(r: UpResult): string[] {
  const failed = [...r.vms.filter((v) => v.failure).map((v) => v.vm), ...r.cluster.failures.map((f) => (f.host === r.cluster.slot ? 'the cluster' : f.host))];
  return [...new Set(failed)];
}

/** Each failure: `VM: failed at STEP: \`vagrant …\` exited N`, then the tail of what the step printed. */
export function upFailureLines(r: UpResult): string[] {
  return [...r.vms.flatMap((v) => (v.failure ? failureLines(v.failure) : [])), ...r.cluster.failures.flatMap((f) => failureLines(f))];
}

/** Nothing was run: every VM was running as provisioned and k8s/ as applied. */
export const didNothing = (r: UpResult) => r.vms.every((v) => !v.did.length) && !r.cluster.did.length;

/** The report's lines, for stdout (`out`) and stderr (`err`: the failures). */
export function upReport(r: UpResult, lab: Lab): { out: string[]; err: string[] } {
  const hosts = onExistingHosts(lab);
  const out = ['', ...upTable(r), ...r.notes.map((n) => `note: ${n}`)];
  if (r.merged) {
    out.push(`kubeconfig: the context ${lab.name} in ${r.merged.file}${r.merged.created ? ' (created)' : ''}; kubectl config use-context ${lab.name}`);
    if (r.merged.modeWas !== undefined) out.push(`  ${r.merged.file} was mode ${r.merged.modeWas.toString(8)}: now 600 (it holds cluster-admin credentials)`);
  }
  if (!r.ok) {
    const others = hosts ? 'the others went on (labgen up again picks up where each stopped)' : 'the other VMs are as they were (labgen up again resumes)';
    const err = [`labgen: up failed on ${failedHosts(r).join(', ')}; ${others}`, ...upFailureLines(r).map((l) => `  ${l}`)];
    return { out, err };
  }
  const machines = hosts ? 'host' : 'VM';
  out.push(
    didNothing(r)
      ? `up to date: every ${machines} runs as provisioned and k8s/ as applied; nothing to do`
      : `up: ${r.vms.length} ${machines}(s) ${hosts ? 'provisioned' : 'running'}, the cluster Ready`,
  );
  return { out: [...out, ...endpointLines(lab, r.merged)], err: [] };
}
