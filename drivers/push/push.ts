import { type Failure, failureOf } from '../base/failure.js';
import type { KnownHostsFile } from '../base/known-hosts.js';
import { pool } from '../base/pool.js';
import type { Progress } from '../base/progress.js';
import { ConnectError, type ConnectOptions, connectSsh, type SshRunner as Remote } from '../base/ssh.js';
import { cutover } from './cutover.js';
import { type RunHandler, runHandlers, setupSummary } from './handlers.js';
import { batches, type Change, changes, handlerId, handlers, owed, type PiTarget } from './plan.js';
import { readRemoteState } from './remote-state.js';
import { upload } from './upload.js';

/**
 * The per-Pi pipeline, run for all Pis at once by the drivers' pool (drivers/base/pool.ts):
 * connect (host key checked) → one listing round trip → upload what differs (one command) →
 * network cut-over if its config changed → handlers (daemon-reload, setup.sh, restarts).
 * A Pi's failure stops that Pi only; its result names the step, command, exit code and stderr.
 */

export interface Timing {
  /** SSH connect + handshake + login */
  connectTimeoutMs: number;
  /** how long to try the new address after a network change */
  confirmTimeoutMs: number;
  /** the Pi's guard rolls back this long after labgen's confirm window */
  guardMarginMs: number;
  /** how long to try the old address after a rollback */
  rollbackWaitMs: number;
}

export const DEFAULT_TIMING: Timing = { connectTimeoutMs: 10_000, confirmTimeoutMs: 60_000, guardMarginMs: 15_000, rollbackWaitMs: 60_000 };

export interface DriverOptions {
  privateKey: string;
  knownHosts: KnownHostsFile;
  /** per node, the address of its last successful push (.labgen/state.json) */
  lastAddress: Record<string, string>;
  /** per node, its address in lab.yaml (every Pi of the lab, not only those pushed now) */
  labAddresses?: Record<string, string>;
  trustNew: boolean;
  dryRun: boolean;
  concurrency: number;
  timing: Timing;
  progress: Progress;
}

export type { Failure } from '../base/failure.js';

export interface HostResult {
  node: string;
  /** where the Pi answered last (after a confirmed cut-over, the new address) */
  address?: string;
  ok: boolean;
  /** files uploaded (dry run: that would be) */
  uploaded: Change[];
  /** handlers run (dry run: that would run) */
  handlers: string[];
  ms: number;
  /** things to tell: a key recorded, a cut-over's outcome */
  notes: string[];
  failure?: Failure;
  /** the address to remember for the next push, when this one earned it */
  record?: string;
}

/** Addresses to try: where the last push found the Pi, then lab.yaml's (a re-flashed Pi is already there). */
export function candidates(target: Pick<PiTarget, 'node' | 'ip'>, lastAddress: Record<string, string>): string[] {
  return [...new Set([lastAddress[target.node], target.ip].filter((a): a is string => !!a))];
}

/** How to reach `target` at `address`: the lab key, its known_hosts; a dry run records no new key. */
export function connectOptions(o: DriverOptions, target: PiTarget, address: string, timeoutMs = o.timing.connectTimeoutMs): ConnectOptions {
  return {
    node: target.node,
    address,
    user: target.user,
    privateKey: o.privateKey,
    knownHosts: o.knownHosts,
    trustNew: o.trustNew,
    record: !o.dryRun,
    timeoutMs,
  };
}

/** The first address that answers; a refused host key is final (never "try the next one"). */
export async function reachPi(o: DriverOptions, target: PiTarget, step: (t: string) => void): Promise<Remote> {
  const errors: string[] = [];
  for (const address of candidates(target, o.lastAddress)) {
    step(`connecting to ${address}`);
    try {
      return await connectSsh(connectOptions(o, target, address));
    } catch (e) {
      if (!(e instanceof ConnectError)) throw e;
      errors.push((e.cause as Error)?.message ?? e.message);
    }
  }
  throw new ConnectError(target.node, candidates(target, o.lastAddress).join(' or '), new Error(errors.join('; ')));
}

class HostRun {
  private current = 'connect';
  private remote?: Remote;
  readonly result: HostResult;
  private readonly t0 = Date.now();

  constructor(
    private readonly o: DriverOptions,
    private readonly target: PiTarget,
  ) {
    this.result = { node: target.node, ok: false, uploaded: [], handlers: [], ms: 0, notes: [] };
  }

  private step = (text: string, current?: string) => {
    if (current) this.current = current;
    this.o.progress.step(this.target.node, text);
  };

  async run(): Promise<HostResult> {
    try {
      await this.pipeline();
      this.result.ok = true;
    } catch (e) {
      this.result.failure = failureOf(e, this.target.node, this.current);
    } finally {
      this.remote?.close();
      this.result.ms = Date.now() - this.t0;
    }
    return this.result;
  }

  private async pipeline(): Promise<void> {
    const { o, target, result } = this;
    this.remote = await reachPi(o, target, (t) => this.step(t, 'connect'));
    result.address = this.remote.address;
    if (this.remote.trusted)
      result.notes.push(`new host key ${this.remote.trusted} ${o.dryRun ? 'accepted for this dry run (not recorded)' : `recorded for ${target.node} and ${this.remote.address}`}`);

    this.step('reading state', 'read state');
    const state = await readRemoteState(this.remote, target.files.map((f) => f.path));
    const cs = changes(target.files, state);
    const hs = handlers(cs, target, state);
    if (o.dryRun) {
      result.uploaded = cs;
      result.handlers = hs.map((h) => (h.kind === 'network' ? `network cut-over ${this.remote!.address} → ${target.ip}` : handlerId(h)));
      return;
    }

    const { main, network } = batches(cs, target.ip);
    if (main.length) this.step(`uploading ${main.length} file(s)`, 'upload');
    await upload(this.remote, main.map((c) => c.file), { owed: owed(hs) });
    result.uploaded.push(...main);
    if (hs.some((h) => h.kind === 'network')) await this.cutover(network);
    const rest = hs.filter((h): h is RunHandler => h.kind !== 'network');
    const skipped: string[] = [];
    await runHandlers(this.remote!, rest, target.stamp, {
      started: (id) => this.step(id, id),
      done: (id) => result.handlers.push(id),
      skipped: (id) => skipped.push(id.replace(/^restart /, '')),
      setupReport: (line) => result.notes.push(setupSummary(line)),
    });
    if (skipped.length) result.notes.push(`not restarted again, started since its files were placed: ${skipped.join(', ')}`);
    result.record = this.remote!.address;
  }

  private async cutover(network: Change[]): Promise<void> {
    const from = this.remote!.address;
    const to = this.target.ip;
    this.current = 'cut-over';
    const r = await cutover(this.remote!, network, {
      from,
      to,
      applyNetwork: this.target.applyNetwork,
      ...this.o.timing,
      connect: (address, timeoutMs) => connectSsh(connectOptions(this.o, this.target, address, timeoutMs)),
      step: (t) => this.step(t),
    });
    this.result.handlers.push('network cut-over');
    if (r.outcome !== 'confirmed') {
      this.remote = undefined; // closed by the cut-over
      // files the Pi rolled back are not counted as placed: what is in effect is the old ones
      if (r.outcome === 'rolled-back') {
        this.result.address = this.result.record = from;
        this.result.notes.push(`rolled back, so not in place: ${network.map((c) => c.file.path).join(', ')}`);
      } else this.result.uploaded.push(...network);
      throw new Error(`${from === to ? `network config at ${to}` : `network cut-over ${from} → ${to}`} not confirmed: ${r.reason}`);
    }
    this.result.uploaded.push(...network);
    this.remote = r.remote;
    this.result.address = to;
    this.result.record = to; // even if a later step fails, the Pi is at its new address now
    // the Pi proved it holds its pinned key at the new address: pin that address too, for ssh
    this.o.knownHosts.pin([to], r.remote.hostKey);
    if (from !== to) this.forget(from, r.remote.hostKey);
    this.result.notes.push(from === to ? `network config applied at ${to}, confirmed (same session)` : `network cut-over ${from} → ${to} confirmed`);
  }

  /** The Pi left `from`: its key's pin there goes, unless that pin may be another Pi's (unpinOld). */
  private forget(from: string, hostKey: Buffer): void {
    if (unpinOld(this.target.node, from, this.o)) this.o.knownHosts.unpin(from, hostKey);
  }
}

/**
 * Whether `node`, which moved away from `from`, takes its key's pin for `from` out of known_hosts
 * (so known_hosts, and ssh reading it, no longer expect it at an address it does not have). Not
 * while another node of the lab is at `from`, in lab.yaml or where the last push found it: with
 * a key two Pis share (a cloned SD card) that pin is the other Pi's too.
 */
export function unpinOld(node: string, from: string, o: Pick<DriverOptions, 'labAddresses' | 'lastAddress'>): boolean {
  const elsewhere = (addresses: Record<string, string> = {}) => Object.entries(addresses).some(([n, a]) => n !== node && a === from);
  return !elsewhere(o.labAddresses) && !elsewhere(o.lastAddress);
}

/** Push to every target, `concurrency` at a time; one Pi failing never stops the others. */
export async function pushAll(targets: PiTarget[], o: DriverOptions): Promise<HostResult[]> {
  return pool(targets, o.concurrency, async (t) => {
    o.progress.start(t.node, o.dryRun ? 'checking (dry run)' : 'pushing');
    const r = await new HostRun(o, t).run();
    o.progress.done(t.node, doneText(r), r.failure ? `${r.failure.step}: ${r.failure.message}` : undefined);
    return r;
  });
}

function doneText(r: HostResult): string {
  const files = `${r.uploaded.length} file(s)`;
  const hs = `${r.handlers.length} handler(s)`;
  return `${r.ok ? 'done' : 'failed'}: ${files}, ${hs} (${(r.ms / 1000).toFixed(1)} s)`;
}
