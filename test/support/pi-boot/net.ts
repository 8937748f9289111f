/**
 * The LAN the booted Pis sit on: a network namespace this process made (lgpi-<pid>-<n>), with a
 * bridge that has the lab gateway's address, and one tap per Pi on it. No uplink, no default
 * route, nothing forwarded: a guest can reach the bridge and the other guests, nothing else.
 * QEMU runs inside the namespace, and so do the commands a test runs with `net.run` (the
 * labgen CLI: `net.run('node', ['dist/bin/labgen.js', 'push', …])`).
 *
 * Each namespace is isolated, so every PiNet can use the same subnet (default 10.42.0.0/24).
 */
import { execFileSync } from 'node:child_process';
import { onProcessEnd } from '../process-end.js';
import { alive, killQuietly, must, run, sweepStaleTempDirs, type ExecResult } from './exec.js';

export interface PiNet {
  /** named network namespace (`ip netns exec <netns> …`) */
  netns: string;
  /** the bridge's address: the lab's gateway (a.b.c.1) */
  gateway: string;
  /** a.b.c.0/24 */
  subnet: string;
  /** run a program inside the namespace; never rejects on a non-zero exit */
  run(cmd: string, args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<ExecResult>;
  /**
   * What answers on ip:port, seen from inside the namespace: the first bytes the server sends
   * (`SSH-2.0-` for sshd), 'open' (connected, nothing sent), 'refused' (the host is up, the
   * port closed) or 'none' (no answer: no such host yet, or no route)
   */
  probeTcp(ip: string, port: number): Promise<string>;
  /** kill what still runs in the namespace, delete taps, bridge and namespace; idempotent */
  stop(): Promise<void>;
}

const NETNS_RE = /^lgpi-(\d+)-\d+$/;
const BRIDGE = 'br0';
let counter = 0;

/**
 * Delete namespaces (and temp dirs) of test processes that died before their teardown: their
 * pid is gone. Their QEMUs died with them (--pdeathsig); a namespace outlives a SIGKILL.
 */
async function sweepStale(): Promise<void> {
  sweepStaleTempDirs();
  for (const line of (await run('ip', ['netns', 'list'])).stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = NETNS_RE.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const pids = (await run('ip', ['netns', 'pids', name])).stdout.split(/\s+/).filter(Boolean);
    pids.forEach((p) => killQuietly(Number(p)));
    await run('ip', ['netns', 'del', name]);
  }
}

export class Net implements PiNet {
  readonly gateway: string;
  private taps = new Set<string>();
  private nextTap = 0;
  private stopping?: Promise<void>;
  private readonly unregister: () => void;
  /** stop hooks of Pis booted here: a Pi is stopped before its tap goes */
  readonly pis = new Set<() => Promise<void>>();

  constructor(
    readonly netns: string,
    readonly subnet: string,
  ) {
    this.gateway = subnet.replace(/\.0\/24$/, '.1');
    this.unregister = onProcessEnd(() => this.stopSync());
  }

  run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.netns, cmd, ...args], opts);
  }

  async probeTcp(ip: string, port: number): Promise<string> {
    // bash's /dev/tcp in the namespace: connect, then up to 8 bytes (3 s at most); 8 s in all
    const script = 'exec 3<>"/dev/tcp/$1/$2" || exit 1; echo connected; timeout 3 head -c 8 <&3';
    const r = await this.run('timeout', ['8', 'bash', '-c', script, 'probe', ip, String(port)]);
    if (r.stdout.startsWith('connected\n')) return r.stdout.slice('connected\n'.length) || 'open';
    return /Connection refused/.test(r.stderr) ? 'refused' : 'none';
  }

  /** A new tap on the bridge for one Pi; its name and a MAC unique on this net. */
  async addTap(): Promise<{ tap: string; mac: string }> {
    const n = this.nextTap++;
    const tap = `tap${n}`;
    await must('ip', ['-n', this.netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    this.taps.add(tap);
    await must('ip', ['-n', this.netns, 'link', 'set', tap, 'master', BRIDGE, 'up']);
    // 52:54:00 is QEMU's prefix; the rest counts taps
    const mac = `52:54:00:4c:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
    return { tap, mac };
  }

  async removeTap(tap: string): Promise<void> {
    if (!this.taps.delete(tap)) return;
    await run('ip', ['-n', this.netns, 'link', 'del', tap]);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([...this.pis].map((stopPi) => stopPi()));
      // anything else a test started in here (a labgen push still running): by its pid
      const pids = (await run('ip', ['netns', 'pids', this.netns])).stdout.split(/\s+/).filter(Boolean);
      pids.forEach((p) => killQuietly(Number(p)));
      for (const tap of [...this.taps]) await this.removeTap(tap);
      await run('ip', ['-n', this.netns, 'link', 'del', BRIDGE]);
      await run('ip', ['netns', 'del', this.netns]);
      this.unregister();
    })();
    return this.stopping;
  }

  /** At process exit (no awaiting there): the namespace goes, and its taps and bridge with it. */
  private stopSync(): void {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', this.netns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
      pids.forEach((p) => killQuietly(Number(p)));
      execFileSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}

/**
 * A fresh LAN for Pis: namespace lgpi-<pid>-<n>, bridge br0 with `gateway` (a.b.c.1/24), lo up.
 * On a failure half-way, what was made is deleted before the error is thrown.
 */
export async function startPiNet(opts: { subnet?: string } = {}): Promise<PiNet> {
  const subnet = opts.subnet ?? '10.42.0.0/24';
  if (!/^\d+\.\d+\.\d+\.0\/24$/.test(subnet)) throw new Error(`startPiNet: subnet must be a.b.c.0/24, got ${subnet}`);
  await sweepStale();
  const net = new Net(`lgpi-${process.pid}-${counter++}`, subnet);
  try {
    await must('ip', ['netns', 'add', net.netns]);
    await must('ip', ['-n', net.netns, 'link', 'set', 'lo', 'up']);
    await must('ip', ['-n', net.netns, 'link', 'add', BRIDGE, 'type', 'bridge']);
    await must('ip', ['-n', net.netns, 'addr', 'add', `${net.gateway}/24`, 'dev', BRIDGE]);
    await must('ip', ['-n', net.netns, 'link', 'set', BRIDGE, 'up']);
    return net;
  } catch (err) {
    await net.stop();
    throw err;
  }
}
