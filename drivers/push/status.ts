import { shellQuote } from '../../generator/common/quote.js';
import { pool } from '../base/pool.js';
import type { Runner } from '../base/runner.js';
import { ConnectError, HostKeyError, type SshRunner } from '../base/ssh.js';
import { differences, type PiTarget, type Why } from './plan.js';
import { readRemoteState } from './remote-state.js';
import { type DriverOptions, reachPi } from './push.js';
import { table } from './report.js';

/**
 * `labgen status`: per Pi, what is live against what is generated. Read-only: never records a
 * host key, never writes on the Pi.
 */

export interface StatusRow {
  node: string;
  address?: string;
  reachable: boolean;
  hostKey: 'ok' | 'changed' | 'unknown' | 'revoked' | '-';
  inSync: number;
  drifted: { path: string; why: Why[] }[];
  missing: string[];
  services: { name: string; state: string }[];
  error?: string;
  ok: boolean;
}

/** `systemctl is-active A B` prints one state per unit, in order (and exits non-zero if one is not active). */
async function serviceStates(remote: Runner, services: string[]): Promise<{ name: string; state: string }[]> {
  if (services.length === 0) return [];
  const out = await remote.run('services', `systemctl is-active ${services.join(' ')}`, `systemctl is-active ${services.map(shellQuote).join(' ')}; true`);
  const states = out.split('\n').map((l) => l.trim()).filter(Boolean);
  return services.map((name, i) => ({ name, state: states[i] ?? 'unknown' }));
}

async function statusOf(o: DriverOptions, target: PiTarget): Promise<StatusRow> {
  const row: StatusRow = { node: target.node, reachable: false, hostKey: '-', inSync: 0, drifted: [], missing: [], services: [], ok: false };
  let remote: SshRunner | undefined;
  try {
    remote = await reachPi({ ...o, trustNew: false, dryRun: true }, target, (t) => o.progress.step(target.node, t));
    row.reachable = true;
    row.hostKey = 'ok';
    row.address = remote.address;
    const targets = target.files.filter((f) => f.role === 'target');
    o.progress.step(target.node, 'comparing files');
    const state = await readRemoteState(remote, targets.map((f) => f.path));
    for (const f of targets) {
      const why = differences(f, state.files.get(f.path));
      if (why.includes('missing')) row.missing.push(f.path);
      else if (why.length) row.drifted.push({ path: f.path, why });
      else row.inSync++;
    }
    row.services = await serviceStates(remote, target.services);
    row.ok = row.drifted.length === 0 && row.missing.length === 0 && row.services.every((s) => s.state === 'active');
  } catch (e) {
    if (e instanceof HostKeyError) {
      row.reachable = true;
      row.address = e.address;
      row.hostKey = e.verdict.status;
    }
    row.error = e instanceof ConnectError || e instanceof HostKeyError ? e.message : `${(e as Error).message}`;
  } finally {
    remote?.close();
  }
  return row;
}

export async function statusAll(targets: PiTarget[], o: DriverOptions): Promise<StatusRow[]> {
  return pool(targets, o.concurrency, async (t) => {
    o.progress.start(t.node, 'checking');
    const row = await statusOf(o, t);
    const off = !row.reachable ? 'connect' : row.hostKey !== 'ok' ? 'host key' : row.error ? 'check' : 'out of sync';
    o.progress.done(t.node, 'ok', row.ok ? undefined : off);
    return row;
  });
}

function filesCell(r: StatusRow): string {
  if (!r.reachable || r.hostKey !== 'ok') return '-';
  if (!r.drifted.length && !r.missing.length) return `in sync (${r.inSync})`;
  return [r.drifted.length ? `${r.drifted.length} drifted` : '', r.missing.length ? `${r.missing.length} missing` : ''].filter(Boolean).join(', ');
}

function servicesCell(r: StatusRow): string {
  if (!r.reachable || r.hostKey !== 'ok') return '-';
  const down = r.services.filter((s) => s.state !== 'active');
  return down.length ? `${down.length} not active` : `${r.services.length} active`;
}

export function statusTable(rows: StatusRow[]): string[] {
  return table(
    ['host', 'address', 'reachable', 'host key', 'files', 'services', 'result'],
    rows.map((r) => [r.node, r.address ?? '-', r.reachable ? 'yes' : 'no', r.hostKey, filesCell(r), servicesCell(r), r.ok ? 'ok' : 'OFF']),
  );
}

/** What is off, per Pi: each drifted or missing file, each service not active, connection errors. */
export function statusDetails(rows: StatusRow[]): string[] {
  return rows.flatMap((r) => [
    ...(r.error ? [`${r.node}: ${r.error}`] : []),
    ...r.drifted.map((d) => `${r.node}: drifted ${d.path} (${d.why.join(', ')})`),
    ...r.missing.map((p) => `${r.node}: missing ${p}`),
    ...r.services.filter((s) => s.state !== 'active').map((s) => `${r.node}: service ${s.name} is ${s.state}`),
  ]);
}
