import { octal, sha256 } from '../../generator/common/text.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import type { PiFacts } from '../../generator/plan/pi/part.js';
import type { RemoteFile, RemoteState } from './remote-state.js';

/**
 * Pure decisions of a push, tested without SSH: what each Pi should hold (its files from the
 * plan, the rest from the plan's per-Pi facts), what differs from what it holds, and which
 * handlers that calls for. The on-Pi paths (PI_STAGE) live with the facts, in the plan.
 */

export type FileRole = 'target' | 'stage' | 'setup' | 'secret';

/** One file as it must be on a Pi. */
export interface DesiredFile {
  /** absolute path on the Pi */
  path: string;
  content: Buffer;
  sha256: string;
  mode: number;
  /** user:group */
  owner: string;
  /** target: where the Pi reads it; stage: the copy setup.sh places from; setup: setup.sh; secret: for setup.sh */
  role: FileRole;
  /** services restarted when it changes (targets only) */
  restart: string[];
  /** part of the network config (a target or its stage copy): changing it is a guarded cut-over */
  network: boolean;
}

/** Everything push and status need about one Pi, from the plan alone. */
export interface PiTarget {
  node: string;
  /** its address in lab.yaml */
  ip: string;
  user: string;
  files: DesiredFile[];
  /** the setup stamp this plan calls for */
  stamp: string;
  /** services setup.sh keeps running (status checks them) */
  services: string[];
  /** shell command that applies the network config: the plan's commands (PiFacts.applyNetwork), joined by && */
  applyNetwork: string;
}


function desired(path: string, content: Buffer, mode: number, role: FileRole, extra: Partial<DesiredFile> = {}): DesiredFile {
  return { path, content, sha256: sha256(content), mode, owner: 'root:root', role, restart: [], network: false, ...extra };
}

/**
 * A Pi's desired files from its FileSpecs and facts. boot/ files are for images only: a running
 * Pi reads them never again.
 */
function targetOf(pi: PiFacts, specs: FileSpec[], secret: (name: string) => Buffer | undefined): PiTarget {
  const { node, stage } = pi;
  const setup = specs.find((f) => f.path === `pis/${node}/setup.sh`);
  if (!setup) throw new Error(`labgen bug: the plan has no pis/${node}/setup.sh`);
  const networkPaths = new Set(pi.networkFiles);
  const files: DesiredFile[] = [];
  for (const f of specs.filter((s) => s.target && s.path.startsWith(`pis/${node}/rootfs/`))) {
    const t = f.target!;
    const content = Buffer.from(f.contents);
    const network = networkPaths.has(t.path);
    files.push(desired(t.path, content, f.mode, 'target', { owner: t.owner, restart: t.restart, network }));
    files.push(desired(`${stage.rootfs}${t.path}`, content, f.mode, 'stage', { network }));
  }
  files.push(desired(stage.setup, Buffer.from(setup.contents), 0o755, 'setup'));
  const secrets = pi.secrets.map((name) => {
    const bytes = secret(name);
    if (!bytes) throw new Error(`labgen: ${node}'s setup.sh needs the secret ${name}, which .labgen/secrets/ does not have`);
    return desired(`${stage.secrets}/${name}`, bytes, 0o600, 'secret');
  });
  files.push(...secrets);
  const stamp = sha256([setup.contents, ...secrets.map((s) => `${s.path} ${s.sha256}`)].join('\n'));
  return { node, ip: pi.ip, user: pi.user, files, stamp, services: pi.services, applyNetwork: pi.applyNetwork.join(' && ') };
}

/**
 * Each Pi's target (all, or the named ones, in lab order), from the plan's per-Pi facts and the
 * Pi files (as the lab folder holds them: a kept hand edit is pushed as kept).
 */
export function piTargets(pis: ReadonlyMap<string, PiFacts>, plan: FileSpec[], secret: (name: string) => Buffer | undefined, only: string[] = []): PiTarget[] {
  return [...pis.values()]
    .filter((pi) => only.length === 0 || only.includes(pi.node))
    .map((pi) => targetOf(pi, plan.filter((f) => f.kind === 'pi' && f.host === pi.node), secret));
}

// ---------------------------------------------------------------- what differs

export type Why = 'missing' | 'content' | 'mode' | 'owner';

export interface Change {
  file: DesiredFile;
  why: Why[];
}


/** Why `remote` is not `file`; [] when it is. */
export function differences(file: DesiredFile, remote: RemoteFile | undefined): Why[] {
  if (!remote) return ['missing'];
  const why: Why[] = [];
  if (remote.sha256 !== file.sha256) why.push('content');
  if (remote.mode !== octal(file.mode)) why.push('mode');
  if (remote.owner !== file.owner) why.push('owner');
  return why;
}

/** The files to upload: those that are missing or differ in content, mode or owner. */
export function changes(files: DesiredFile[], state: RemoteState): Change[] {
  return files.map((file) => ({ file, why: differences(file, state.files.get(file.path)) })).filter((c) => c.why.length > 0);
}

/** Whether `content` names the IPv4 address `ip` (not as part of a longer one, 10.0.0.5 in 10.0.0.50). */
export function namesAddress(content: Buffer, ip: string): boolean {
  const escaped = ip.replace(/\./g, '\\.');
  return new RegExp(`(?<![0-9.])${escaped}(?!\\.?[0-9])`).test(content.toString('latin1'));
}

/**
 * Uploads in two batches: the network config goes last, alone, under the cut-over guard, and
 * its stage copy with it (setup.sh, run before the cut-over, would otherwise apply it unguarded).
 * A network stage copy whose target is already right is an ordinary upload.
 *
 * With it go the changed files that name `ip`, the address the cut-over moves the Pi to (its
 * /etc/hosts, say, which names it): uploaded with the config, they are rolled back with it by
 * the guard, so a Pi that goes back to its old address never keeps naming the new one. Placed
 * only after the confirm, they would still be new until labgen came back, and never put right
 * if it did not (the guard runs on the Pi, whatever happens to labgen).
 */
export function batches(cs: Change[], ip?: string): { main: Change[]; network: Change[] } {
  const cutover = cs.some((c) => c.file.network && c.file.role === 'target');
  const placed = (c: Change) => c.file.role === 'target' || c.file.role === 'stage';
  const rides = (c: Change) => c.file.network || (ip !== undefined && placed(c) && namesAddress(c.file.content, ip));
  return {
    main: cs.filter((c) => !(cutover && rides(c))),
    network: cutover ? cs.filter(rides) : [],
  };
}

// ---------------------------------------------------------------- handlers

export type Handler =
  | { kind: 'network' }
  | { kind: 'daemon-reload' }
  | { kind: 'setup' }
  | { kind: 'restart'; service: string };

/** `restart slurmd`, `setup.sh`, … as shown to the user and kept in the pending file. */
export function handlerId(h: Handler): string {
  switch (h.kind) {
    case 'restart':
      return `restart ${h.service}`;
    case 'setup':
      return 'setup.sh';
    default:
      return h.kind;
  }
}

export function parseHandlerId(id: string): Handler | undefined {
  if (id === 'daemon-reload') return { kind: 'daemon-reload' };
  const m = /^restart (\S+)$/.exec(id);
  return m ? { kind: 'restart', service: m[1]! } : undefined;
}

const UNIT_DIR = '/etc/systemd/system/';

/**
 * Handlers for what changed, in the order they run: the network cut-over (so everything after
 * runs on the address the Pi keeps), systemd's reload for changed units, setup.sh when it or
 * its secrets differ from the last run that finished, then each restart once. Handlers a
 * previous push owed (pending) are run too.
 */
export function handlers(cs: Change[], target: Pick<PiTarget, 'stamp'>, state: Pick<RemoteState, 'stamp' | 'pending'>): Handler[] {
  const targets = cs.filter((c) => c.file.role === 'target').map((c) => c.file);
  const pending = state.pending.map(parseHandlerId).filter((h): h is Handler => h !== undefined);
  const out: Handler[] = [];
  if (batches(cs).network.length) out.push({ kind: 'network' });
  if (targets.some((f) => f.path.startsWith(UNIT_DIR)) || pending.some((h) => h.kind === 'daemon-reload')) out.push({ kind: 'daemon-reload' });
  if (state.stamp !== target.stamp) out.push({ kind: 'setup' });
  const services = new Set([...targets.flatMap((f) => f.restart), ...pending.flatMap((h) => (h.kind === 'restart' ? [h.service] : []))]);
  for (const service of [...services].sort()) out.push({ kind: 'restart', service });
  return out;
}

/** The handlers recorded on the Pi with the uploads, until they have run. */
export function owed(hs: Handler[]): string[] {
  return hs.filter((h) => h.kind === 'daemon-reload' || h.kind === 'restart').map(handlerId);
}
