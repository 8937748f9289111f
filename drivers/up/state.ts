import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../generator/common/atomic.js';
import { LABGEN_DIR, UP_STATE } from '../../generator/common/layout.js';

/**
 * .labgen/up-state.json: what `labgen up` last brought to the machines, so the next `up` does
 * only what changed since (the writer's impact of that change: plan.ts), and resumes what did not
 * finish:
 *   applied   the VMs' files and k8s/'s as they were on disk when up last applied them (sha256,
 *             and each file's kind and host, so a file gone since still names its VM);
 *   vms       per VM, what it still needs because its step failed or was skipped (`pending`), and
 *             the sha256s of what its common.sh last installed: the lab CA (`labCa`) and the VM's
 *             SSH host key, its public half (`hostKey`: .labgen/secrets/hostkeys/VM/, which
 *             `labgen generate --new-secrets` makes anew without changing any VM file), and the
 *             Vagrantfile as it last booted with it (`vagrantfile`: its own view, plan.ts).
 * Why a record of its own and not the manifest: the manifest says what `generate` wrote, not what
 * the VMs run. After `generate` the folder is up to date and its decisions are all "identical";
 * only what up applied tells which of those files the VMs have not seen. Written after every VM
 * and every cluster step (atomically: an interrupted up leaves the last finished step recorded).
 */

/** What a VM needs, weakest first: its common provisioner again (the lab CA), every provisioner, a restart and every provisioner. */
export type Need = 'none' | 'common' | 'provision' | 'reload';
const RANK: Record<Need, number> = { none: 0, common: 1, provision: 2, reload: 3 };
export const stronger = (a: Need, b: Need): Need => (RANK[a] >= RANK[b] ? a : b);
export const atLeast = (a: Need, b: Need): boolean => RANK[a] >= RANK[b];

export interface Applied {
  sha256: string;
  kind: 'vm' | 'k8s';
  host?: string;
}

export interface VmRecord {
  pending?: Exclude<Need, 'none'>;
  labCa?: string;
  hostKey?: string;
  /** the sha256 of the Vagrantfile as the VM last booted with it (its own view: vagrantfileOf) */
  vagrantfile?: string;
}

export interface UpState {
  applied: Record<string, Applied>;
  vms: Record<string, VmRecord>;
}

const NEEDS = new Set<string>(['common', 'provision', 'reload']);

function vmRecord(v: unknown): VmRecord {
  const r = (v ?? {}) as Record<string, unknown>;
  return {
    ...(typeof r.pending === 'string' && NEEDS.has(r.pending) ? { pending: r.pending as VmRecord['pending'] } : {}),
    ...(typeof r.labCa === 'string' ? { labCa: r.labCa } : {}),
    ...(typeof r.hostKey === 'string' ? { hostKey: r.hostKey } : {}),
    ...(typeof r.vagrantfile === 'string' ? { vagrantfile: r.vagrantfile } : {}),
  };
}

/** The record; a missing or unreadable one is empty (everything is then applied again: every step is idempotent). */
export function readUpState(labDir: string): UpState {
  const file = join(labDir, UP_STATE);
  if (!existsSync(file)) return { applied: {}, vms: {} };
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Partial<UpState>;
    const applied: Record<string, Applied> = {};
    for (const [path, a] of Object.entries(doc.applied ?? {}))
      if (typeof a?.sha256 === 'string' && (a.kind === 'vm' || a.kind === 'k8s')) applied[path] = { sha256: a.sha256, kind: a.kind, ...(a.host ? { host: a.host } : {}) };
    const vms = Object.fromEntries(Object.entries(doc.vms ?? {}).map(([vm, r]) => [vm, vmRecord(r)]));
    return { applied, vms };
  } catch {
    return { applied: {}, vms: {} };
  }
}

const sortedObject = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function writeUpState(labDir: string, s: UpState): void {
  const vms = Object.fromEntries(Object.entries(s.vms).filter(([, r]) => r.pending || r.labCa || r.hostKey || r.vagrantfile));
  const text = `${JSON.stringify({ version: 1, applied: sortedObject(s.applied), vms: sortedObject(vms) }, null, 2)}\n`;
  mkdirSync(join(labDir, LABGEN_DIR), { recursive: true });
  writeFileAtomic(join(labDir, UP_STATE), text, 0o644);
}
