import { type AddressInfo, createServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { AnyAuthMethod, AuthHandlerMiddleware, ServerHostKeyAlgorithm } from 'ssh2';
import { shellQuote } from '../../generator/common/quote.js';
import type { StepError } from './failure.js';
import { blobType, fingerprint, type HostKeyVerdict, type KnownHostsFile } from './known-hosts.js';
import { type ExecOptions, type ExecResult, lineSplitter, type Runner, runChecked } from './runner.js';

/**
 * The SSH Runner: one connection to a host (node-ssh over ssh2), its host key checked against
 * the lab's known_hosts on every connect (never skipped: an unknown key is refused unless the
 * caller trusts new keys, a changed or revoked one always), and every command run as root
 * (through `sudo -n` for a non-root user). A failed command throws the base CommandError:
 * the host, the step, the command, its exit code and the tail of its stderr.
 *
 * `labgen adopt` reaches a Pi the lab does not know yet the way the user does: `hostKeyOf` shows
 * the key it presents (nothing is sent), `connectWithLogin` logs in with the user's own agent,
 * keys or password, accepting that one key only; its runner may feed sudo a password.
 */

export type { ExecResult } from './runner.js';

export interface ConnectOptions {
  /** the host's name (a Pi's node name): its pins decide; the address's only for a host with none (known-hosts.ts) */
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
  /** a jump host already connected (its own key checked): the connection goes through it (ssh -J) */
  via?: SshRunner;
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
      if (v.pinnedFor)
        return `host key of ${who} is the one the lab pinned for ${v.pinnedFor.join(', ')}: it presented ${presented}; refused: that is another host, not ${node} (two Pis at one address? Pis flashed from one card?)`;
      return `host key of ${who} has CHANGED: it presented ${presented}, the lab pinned ${v.recorded.join(', ')}; refused (a Pi flashed with a stock OS has a key of its own: check it on the Pi, then \`labgen adopt ${node}\` gives it the lab's; otherwise another machine is on that address)`;
    case 'unknown':
      return `host key of ${who} is not known: it presented ${presented}; refused (a Pi flashed with a stock OS: check the key on the Pi, then \`labgen adopt ${node}\` gives it the lab's; or push with --trust-new to record this one)`;
    case 'revoked':
      return `host key of ${who} is marked @revoked in known_hosts: ${presented}; refused`;
    default:
      return `host key of ${who} is trusted`;
  }
}

/** The host presented another key than the one it was to present (adopt: the key confirmed a moment ago): nothing sent. */
export class UnexpectedHostKeyError extends Error implements StepError {
  readonly step = 'host key';
  constructor(
    readonly node: string,
    readonly address: string,
    readonly expected: string,
    readonly presented: string,
  ) {
    super(`host key of ${node} (${address}) is not the one confirmed: it presented ${presented}, not ${expected}; refused`);
    this.name = 'UnexpectedHostKeyError';
  }
}

/** TCP, SSH handshake or login failed (host down, wrong address, lab key not authorized ...). */
export class ConnectError extends Error implements StepError {
  readonly step = 'connect';
  /**
   * the host answered but took none of the credentials offered: ssh2's client-authentication
   * failure, or (`refused`) the host hung up while they were tried
   */
  readonly loginRefused: boolean;
  constructor(
    readonly node: string,
    readonly address: string,
    cause: unknown,
    refused = false,
  ) {
    super(`cannot connect to ${node} at ${address}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'ConnectError';
    this.loginRefused = refused || (cause as { level?: string } | undefined)?.level === 'client-authentication';
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

/**
 * `script` as root through `sudo -S` (adopt, for a user whose sudo wants a password): the password
 * is the first line of stdin, where sudo reads it (byte by byte: the rest stays the command's). `-k`
 * makes sudo ask every time, so a credential it cached never leaves that line to the command.
 */
function asRootWithPassword(script: string): string {
  return `sudo -k -S -p '' -- sh -c ${shellQuote(PRELUDE + script)}`;
}

export class SshRunner implements Runner {
  /** set when this connection recorded a new host key (--trust-new) */
  trusted?: string;
  /** the login user's password for sudo (adopt); never on a command line, never logged */
  private sudoPassword?: string;

  constructor(
    /** the host's node name (its pins are looked up under it and the address) */
    readonly host: string,
    readonly address: string,
    private readonly user: string,
    private readonly ssh: NodeSSH,
    /** the key the host presented, for pinning it under a new address after a cut-over */
    readonly hostKey: Buffer,
  ) {}

  /** From now on, become root with `sudo -S` and this password instead of `sudo -n`. */
  useSudoPassword(password: string): void {
    if (/[\r\n]/.test(password)) throw new Error('a password with a line break cannot be handed to sudo');
    this.sudoPassword = password;
  }

  /** Run `script` as root; resolves whatever the exit code (null: the connection was lost). */
  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const lines = opts.onLine ? lineSplitter(opts.onLine) : undefined;
    const pw = this.user === 'root' ? undefined : this.sudoPassword;
    const stdin = pw === undefined ? opts.stdin : Buffer.concat([Buffer.from(`${pw}\n`), opts.stdin ?? Buffer.alloc(0)]);
    const r = await this.ssh.execCommand(pw === undefined ? asRoot(this.user, script) : asRootWithPassword(script), {
      stdin: stdin ? Readable.from([stdin]) : undefined,
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

  /** A TCP stream to `host:port` from this host (what ssh -J asks a jump host for). */
  forward(host: string, port: number): Promise<Duplex> {
    const conn = this.ssh.connection;
    if (!conn) return Promise.reject(new ConnectError(this.host, this.address, new Error('the connection is closed')));
    return new Promise((resolve, reject) =>
      conn.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(new Error(`${this.host} cannot reach ${host}:${port}: ${err.message}`)) : resolve(stream))),
    );
  }

  close(): void {
    this.ssh.dispose();
  }
}

/**
 * The socket to `address`:22: through the jump host when there is one (a failure is the target's
 * ConnectError). The jump host's own connect to a host that is down can take minutes: given up after `timeoutMs`.
 */
async function socketTo(node: string, address: string, via: SshRunner | undefined, timeoutMs: number): Promise<{ sock?: Duplex }> {
  if (!via) return {};
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${via.host} did not reach it within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  try {
    return { sock: await Promise.race([via.forward(address, 22), late]) };
  } catch (e) {
    throw new ConnectError(node, address, e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A local port forward through `via` (ssh -L 127.0.0.1:PORT:host:port): a listener on a free port
 * of this machine's loopback; each connection to it is a new stream to `host:port` from `via`.
 */
export async function localForward(via: SshRunner, host: string, port: number): Promise<{ port: number; close: () => void }> {
  const server = createServer((local) => {
    via.forward(host, port).then(
      (remote) => {
        local.pipe(remote).pipe(local);
        const end = () => {
          local.destroy();
          remote.destroy();
        };
        local.on('error', end).on('close', end);
        remote.on('error', end).on('close', end);
      },
      () => local.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** A host that vanishes mid-command (network cut-over, power) ends the command instead of hanging it. */
const KEEPALIVE = { keepaliveInterval: 5000, keepaliveCountMax: 3 } as const;

/** Connect and log in; the host key is checked before anything is sent. */
export async function connectSsh(o: ConnectOptions): Promise<SshRunner> {
  let presented: Buffer | undefined;
  let verdict: HostKeyVerdict | undefined;
  const pinned = o.knownHosts.pinnedTypes(o).flatMap((t) => ALGOS[t] ?? []);
  const ssh = new NodeSSH();
  const sock = await socketTo(o.node, o.address, o.via, o.timeoutMs);
  try {
    await ssh.connect({
      host: o.address,
      port: 22,
      ...sock,
      username: o.user,
      privateKey: o.privateKey,
      readyTimeout: o.timeoutMs,
      ...KEEPALIVE,
      // remove then prepend (ssh2 applies them in key order): the pinned types move to the front
      algorithms: pinned.length ? { serverHostKey: { remove: pinned, prepend: pinned, append: [] } } : undefined,
      hostVerifier: (key: Buffer) => {
        presented = Buffer.from(key);
        verdict = o.knownHosts.verify(o, presented);
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
    if (o.record) o.knownHosts.pin([o.node, o.address], presented!);
    remote.trusted = fingerprint(presented!);
  }
  return remote;
}

/** One of the user's own ways to log in (adopt), tried in the order given. */
export type Login =
  | { kind: 'agent'; socket: string }
  | { kind: 'key'; path: string; privateKey: string }
  | { kind: 'password'; password: string };

export interface LoginOptions {
  node: string;
  address: string;
  user: string;
  logins: Login[];
  /** the one host key to accept: the one the user confirmed, or the lab's own for this Pi */
  hostKey: Buffer;
  timeoutMs: number;
}

/** A login as ssh2 tries it; a password is offered as `password`, then to a keyboard-interactive password prompt. */
function authMethods(user: string, l: Login): AnyAuthMethod[] {
  if (l.kind === 'agent') return [{ type: 'agent', username: user, agent: l.socket }];
  if (l.kind === 'key') return [{ type: 'publickey', username: user, key: l.privateKey }];
  return [
    { type: 'password', username: user, password: l.password },
    {
      type: 'keyboard-interactive',
      username: user,
      // only a lone password prompt gets the password: anything else (a one-time code) is not ours to answer
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.length === 1 && /password/i.test(prompts[0]!.prompt) ? [l.password] : []),
    },
  ];
}

/**
 * The host ended the connection: its DISCONNECT (ssh2 passes it on with no level), or a close
 * without a word (node-ssh's "No response from server"); not a timeout or a socket error here.
 * During a login that is sshd refusing it: "Too many authentication failures" once an agent and
 * the key files offer more keys than its MaxAuthTries (6) takes.
 */
const hungUp = (e: unknown) => (e as { level?: string } | undefined)?.level === undefined;

/** Connect as `o.user` with the user's own credentials; the host must present `o.hostKey`. Resolves with the login that worked. */
export async function connectWithLogin(o: LoginOptions): Promise<{ remote: SshRunner; login: Login }> {
  const queue = o.logins.flatMap((l) => authMethods(o.user, l).map((m) => ({ l, m })));
  let current: Login | undefined;
  let presented: Buffer | undefined;
  /** the host key passed and the logins are being tried */
  let authenticating = false;
  // ssh2 ends the login when the handler returns false ("All configured authentication methods failed")
  const authHandler = (() => {
    authenticating = true;
    const next = queue.shift();
    current = next?.l;
    return next ? next.m : false;
  }) as unknown as AuthHandlerMiddleware;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: o.address,
      port: 22,
      username: o.user,
      readyTimeout: o.timeoutMs,
      ...KEEPALIVE,
      algorithms: { serverHostKey: ALGOS[blobType(o.hostKey)] ?? [] },
      authHandler,
      hostVerifier: (key: Buffer) => {
        presented = Buffer.from(key);
        return presented.equals(o.hostKey);
      },
    });
  } catch (e) {
    ssh.dispose();
    if (presented && !presented.equals(o.hostKey)) throw new UnexpectedHostKeyError(o.node, o.address, fingerprint(o.hostKey), fingerprint(presented));
    throw new ConnectError(o.node, o.address, e, authenticating && hungUp(e));
  }
  ssh.connection?.on('error', () => undefined);
  return { remote: new SshRunner(o.node, o.address, o.user, ssh, presented!), login: current! };
}

/**
 * The host key `address` presents for `type` (the one `ssh-keygen -lf` shows on the host for that
 * type), learned without logging in: the handshake stops at the key.
 */
export async function hostKeyOf(o: { node: string; address: string; type: string; timeoutMs: number; via?: SshRunner }): Promise<Buffer> {
  let presented: Buffer | undefined;
  const ssh = new NodeSSH();
  const sock = await socketTo(o.node, o.address, o.via, o.timeoutMs);
  try {
    await ssh.connect({
      host: o.address,
      port: 22,
      ...sock,
      username: 'labgen-host-key',
      readyTimeout: o.timeoutMs,
      algorithms: { serverHostKey: ALGOS[o.type] ?? [] },
      hostVerifier: (key: Buffer) => {
        presented = Buffer.from(key);
        return false;
      },
    });
  } catch (e) {
    if (!presented) throw new ConnectError(o.node, o.address, e);
  } finally {
    ssh.dispose();
  }
  if (!presented) throw new ConnectError(o.node, o.address, new Error('the host presented no key')); // it let us in without one?
  return presented;
}
