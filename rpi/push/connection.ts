import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { shellQuote } from '../../generator/plan/quote.js';
import { fingerprint, type HostKeyVerdict, type KnownHostsFile } from './known-hosts.js';

/**
 * One SSH connection to a Pi (node-ssh), with its host key checked against the lab's
 * known_hosts on every connect, and every command run as root (through `sudo -n` for a
 * non-root lab.pis.user). A failure carries the host, the step, the command, its exit code
 * and the tail of its stderr.
 */

export interface ConnectOptions {
  /** the Pi's node name: its pins are looked up under this name and the address */
  node: string;
  address: string;
  user: string;
  /** the lab's SSH key (OpenSSH private key text) */
  privateKey: string;
  knownHosts: KnownHostsFile;
  /** accept and record a key seen for the first time (ssh's StrictHostKeyChecking=accept-new) */
  trustNew: boolean;
  /** false in a dry run: a new key is accepted for this run only, nothing is written */
  record: boolean;
  timeoutMs: number;
}

/** The host presented a key the lab does not trust: never connected, nothing sent. */
export class HostKeyError extends Error {
  constructor(
    readonly node: string,
    readonly address: string,
    readonly verdict: Exclude<HostKeyVerdict, { status: 'ok' }>,
    readonly presented: string,
  ) {
    super(hostKeyMessage(node, address, verdict, presented));
    this.name = 'HostKeyError';
  }
}

function hostKeyMessage(node: string, address: string, v: HostKeyVerdict, presented: string): string {
  const who = `${node} (${address})`;
  switch (v.status) {
    case 'changed':
      return `host key of ${who} has CHANGED: it presented ${presented}, the lab pinned ${v.recorded.join(', ')}; refused (another machine on that address, or a reinstalled Pi)`;
    case 'unknown':
      return `host key of ${who} is not known: it presented ${presented}; refused (check it on the Pi, then push with --trust-new to record it)`;
    case 'revoked':
      return `host key of ${who} is marked @revoked in known_hosts: ${presented}; refused`;
    default:
      return `host key of ${who} is trusted`;
  }
}

/** TCP, SSH handshake or login failed (host down, wrong address, lab key not authorized ...). */
export class ConnectError extends Error {
  constructor(
    readonly node: string,
    readonly address: string,
    cause: unknown,
  ) {
    super(`cannot connect to ${node} at ${address}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'ConnectError';
  }
}

/** A remote command failed. */
export class RemoteError extends Error {
  constructor(
    readonly step: string,
    readonly command: string,
    readonly code: number | null,
    readonly stderrTail: string,
  ) {
    super(`${step}: \`${command}\` ${code === null ? 'lost its connection' : `exited ${code}`}${stderrTail ? `: ${stderrTail}` : ''}`);
    this.name = 'RemoteError';
  }
}

/** The last lines of a command's stderr, enough to see why it failed. */
export function tail(text: string, lines = 8, chars = 1500): string {
  const t = text.trim().split('\n').slice(-lines).join('\n');
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}

/** sshd's PATH for a non-login command may lack sbin; set the one root expects, and a stable locale. */
const PRELUDE = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; LC_ALL=C; export PATH LC_ALL\n';

/** The command line for `script` run as root by `user`: the script is one quoted argument of sh -c. */
export function asRoot(user: string, script: string): string {
  const sh = `sh -c ${shellQuote(PRELUDE + script)}`;
  return user === 'root' ? sh : `sudo -n -- ${sh}`;
}

/** Algorithms to ask for, per key type pinned: the server then shows the key that was pinned. */
const ALGOS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Remote {
  /** set when this connection recorded a new host key (--trust-new) */
  trusted?: string;

  constructor(
    readonly node: string,
    readonly address: string,
    private readonly user: string,
    private readonly ssh: NodeSSH,
    /** the key the host presented, for pinning it under a new address after a cut-over */
    readonly hostKey: Buffer,
  ) {}

  /** Run `script` as root; resolves whatever the exit code (null: the connection was lost). `onLine` sees stdout as it arrives. */
  async exec(script: string, stdin?: Buffer, onLine?: (line: string) => void): Promise<ExecResult> {
    let partial = '';
    const r = await this.ssh.execCommand(asRoot(this.user, script), {
      stdin: stdin ? Readable.from([stdin]) : undefined,
      noTrim: true,
      onStdout: onLine
        ? (chunk) => {
            const lines = (partial + chunk.toString()).split('\n');
            partial = lines.pop()!;
            lines.forEach(onLine);
          }
        : undefined,
    });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** Run `script` as root; a non-zero exit throws a RemoteError naming `step` and `command`. */
  async run(step: string, command: string, script: string, stdin?: Buffer, onLine?: (line: string) => void): Promise<string> {
    let r: ExecResult;
    try {
      r = await this.exec(script, stdin, onLine);
    } catch (e) {
      throw new RemoteError(step, command, null, (e as Error).message);
    }
    if (r.code !== 0) throw new RemoteError(step, command, r.code, tail(r.stderr || r.stdout));
    return r.stdout;
  }

  close(): void {
    this.ssh.dispose();
  }
}

/** Connect and log in; the host key is checked before anything is sent. */
export async function connect(o: ConnectOptions): Promise<Remote> {
  const names = [o.node, o.address];
  let presented: Buffer | undefined;
  let verdict: HostKeyVerdict | undefined;
  const pinned = o.knownHosts.pinnedTypes(names).flatMap((t) => ALGOS[t] ?? []);
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: o.address,
      port: 22,
      username: o.user,
      privateKey: o.privateKey,
      readyTimeout: o.timeoutMs,
      // a Pi that vanishes mid-command (network cut-over, power) ends the command instead of hanging it
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      // remove then prepend (ssh2 applies them in key order): the pinned types move to the front
      algorithms: pinned.length ? { serverHostKey: { remove: pinned, prepend: pinned, append: [] } } : undefined,
      hostVerifier: (key: Buffer) => {
        presented = Buffer.from(key);
        verdict = o.knownHosts.verify(names, presented);
        return verdict.status === 'ok' || (verdict.status === 'unknown' && o.trustNew);
      },
    });
  } catch (e) {
    ssh.dispose();
    if (presented && verdict && verdict.status !== 'ok' && !(verdict.status === 'unknown' && o.trustNew))
      throw new HostKeyError(o.node, o.address, verdict, fingerprint(presented));
    throw new ConnectError(o.node, o.address, e);
  }
  // node-ssh listens for errors only while connecting: a connection reset later (a Pi whose
  // address moved, a killed sshd) must end the running command, not the process
  ssh.connection?.on('error', () => undefined);
  const remote = new Remote(o.node, o.address, o.user, ssh, presented!);
  if (verdict?.status === 'unknown') {
    // like ssh's accept-new: recorded for the name and the address it was reached at
    if (o.record) o.knownHosts.pin(names, presented!);
    remote.trusted = fingerprint(presented!);
  }
  return remote;
}
