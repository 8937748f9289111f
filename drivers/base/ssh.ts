import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { shellQuote } from '../../generator/common/quote.js';
import type { StepError } from './failure.js';
import { fingerprint, type HostKeyVerdict, type KnownHostsFile } from './known-hosts.js';
import { type ExecOptions, type ExecResult, lineSplitter, type Runner, runChecked } from './runner.js';

/**
 * The SSH Runner: one connection to a host (node-ssh over ssh2), its host key checked against
 * the lab's known_hosts on every connect (never skipped: an unknown key is refused unless the
 * caller trusts new keys, a changed or revoked one always), and every command run as root
 * (through `sudo -n` for a non-root user). A failed command throws the base CommandError:
 * the host, the step, the command, its exit code and the tail of its stderr.
 */

export type { ExecResult } from './runner.js';

export interface ConnectOptions {
  /** the host's name (a Pi's node name): its pins are looked up under this name and the address */
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
export class HostKeyError extends Error implements StepError {
  readonly step = 'host key';
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
export class ConnectError extends Error implements StepError {
  readonly step = 'connect';
  constructor(
    readonly node: string,
    readonly address: string,
    cause: unknown,
  ) {
    super(`cannot connect to ${node} at ${address}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'ConnectError';
  }
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

export class SshRunner implements Runner {
  /** set when this connection recorded a new host key (--trust-new) */
  trusted?: string;

  constructor(
    /** the host's node name (its pins are looked up under it and the address) */
    readonly host: string,
    readonly address: string,
    private readonly user: string,
    private readonly ssh: NodeSSH,
    /** the key the host presented, for pinning it under a new address after a cut-over */
    readonly hostKey: Buffer,
  ) {}

  /** Run `script` as root; resolves whatever the exit code (null: the connection was lost). */
  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const lines = opts.onLine ? lineSplitter(opts.onLine) : undefined;
    const r = await this.ssh.execCommand(asRoot(this.user, script), {
      stdin: opts.stdin ? Readable.from([opts.stdin]) : undefined,
      noTrim: true,
      onStdout: lines ? (chunk) => lines.push(chunk) : undefined,
    });
    lines?.flush();
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /** Run `script` as root; a non-zero exit throws a CommandError naming `step` and `command`. */
  run(step: string, command: string, script: string, opts?: ExecOptions): Promise<string> {
    return runChecked(this, step, command, script, opts);
  }

  close(): void {
    this.ssh.dispose();
  }
}

/** Connect and log in; the host key is checked before anything is sent. */
export async function connectSsh(o: ConnectOptions): Promise<SshRunner> {
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
  const remote = new SshRunner(o.node, o.address, o.user, ssh, presented!);
  if (verdict?.status === 'unknown') {
    // like ssh's accept-new: recorded for the name and the address it was reached at
    if (o.record) o.knownHosts.pin(names, presented!);
    remote.trusted = fingerprint(presented!);
  }
  return remote;
}
