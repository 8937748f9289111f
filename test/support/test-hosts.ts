/**
 * Simulated Raspberry Pis for end-to-end tests: network namespaces + real sshd. Needs root and
 * the Debian packages `.ci/run` installs.
 *
 *   const group = await startHosts(3, { authorizedKey });
 *   group.hosts[0]  // { name: 'pi1', ip: '10.77.X.2', hostKey, exec, readFile, … }
 *   await group.stopAll();
 *
 * `users` adds login users besides root (with a password, a key, sudo with or without a
 * password), as a stock Raspberry Pi OS has its imager's user.
 *
 * Each host is a named network namespace with one veth ("eth0") on a bridge
 * the group owns, plus its own root: `unshare --mount --uts --pid --fork`
 * overlays the machine's `/` (read-only lower layer) with a tmpfs upper layer,
 * mounts proc/sys/run/tmp, rbinds /dev, sets the hostname and `exec`s a real
 * sshd (key-only root login) chrooted into that root. sshd is therefore PID 1
 * of the host's PID namespace: killing it kills everything in the host, and
 * the host's mounts vanish with its mount namespace (nothing to umount).
 *
 * Parallel test processes do not clash: each group reserves its own
 * 10.77.X.0/24 (X derived from the pid) by atomically creating bridge
 * `lgbrX`; netns, veth and temp-dir names carry X (and the pid).
 * No default route is set anywhere: traffic stays on the bridge.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onProcessEnd } from './process-end.js';

// ---------------------------------------------------------------- types

/** File content to place in a host's root: text/bytes (mode 0644) or with an explicit mode. */
export type FileSpec = string | Buffer | { content: string | Buffer; mode?: number };

export interface HostInfo {
  name: string;
  ip: string;
  /** 0-based position in the group */
  index: number;
}

/** A login user of every host besides root (a stock Raspberry Pi OS has one: the imager's). */
export interface TestUser {
  name: string;
  /** its password (sshd takes it only where `files` turn PasswordAuthentication on); none: no password logs in */
  password?: string;
  /** OpenSSH public key line allowed to log in as this user */
  authorizedKey?: string;
  /**
   * nopasswd: `sudo` without a password (as Raspberry Pi OS gives its first user); password: in
   * group sudo, so sudo asks for the user's password (Debian's default); none: no sudo. Default nopasswd.
   */
  sudo?: 'nopasswd' | 'password' | 'none';
}

export interface StartHostsOptions {
  /** host names (also hostnames); default pi1..piN */
  names?: string[];
  /** OpenSSH public key line allowed to log in as root */
  authorizedKey?: string;
  /** login users besides root, made in every host before it is handed over */
  users?: TestUser[];
  /** private host keys (OpenSSH text) by host name, to pin them; other hosts get a fresh ed25519 key */
  hostKeys?: Record<string, string>;
  /** extra files (absolute path in the host → content), placed before sshd starts; may override the defaults */
  files?: Record<string, FileSpec> | ((host: HostInfo) => Record<string, FileSpec>);
  /** how long to wait for every sshd to answer; default 20 s */
  readyTimeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** exit code; 128+n when killed by signal n */
  code: number;
}

export interface TestHost extends HostInfo {
  /** named network namespace (`ip -n <netns> …`, /run/netns/<netns>) */
  netns: string;
  /** machine-side end of the host's veth, enslaved to the bridge */
  veth: string;
  /** public host key, `<type> <base64>` (no comment): prefix with the ip for known_hosts */
  hostKey: string;
  /** machine pid of the host's PID-1 (sshd); valid until stop() */
  pid: number;
  /** the host's merged root as seen from outside (`/proc/<pid>/root`); valid until stop() */
  root: string;
  /** run `sh -c cmd` inside the host (its mount, uts, pid and net namespaces and root) */
  exec(cmd: string, opts?: { input?: string | Buffer }): Promise<ExecResult>;
  /** read a file from the host's root */
  readFile(path: string): Promise<string>;
  /** write a file into the host's root (parent directories are created) */
  writeFile(path: string, content: FileSpec): Promise<void>;
  /** what sshd and the setup script wrote to stdout/stderr (last 64 KiB) */
  log(): string;
  /** kill the host, delete its veth and namespace; idempotent */
  stop(): Promise<void>;
}

export interface TestHostGroup {
  hosts: TestHost[];
  /** bridge the hosts hang on */
  bridge: string;
  /** the machine's address on the bridge (10.77.X.1): bind test daemons (apt-cacher-ng, …) here */
  bridgeIp: string;
  /** 10.77.X.0/24 */
  subnet: string;
  /** temp dir holding the staged files (removed by stopAll) */
  dir: string;
  host(name: string): TestHost;
  /** known_hosts text pinning every host's key under its ip */
  knownHosts(): string;
  /** stop every host, delete the bridge and the temp dir; idempotent */
  stopAll(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// ---------------------------------------------------------------- small helpers

/** Run a program without a shell; never rejects on a non-zero exit (code 127 if it cannot start). */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ stdout, stderr: stderr + String(err), code: 127 }));
    child.on('close', (code, signal) =>
      resolve({ stdout, stderr, code: code ?? 128 + (signal ? signalNumber(signal) : 0) }),
    );
    child.stdin.on('error', () => {}); // the program may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** Like run, but throws with the program's stderr on failure. */
async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, { input });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A zombie counts as dead: its owner is gone even if nobody reaped it yet. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function killQuietly(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Generate an ed25519 key pair `<dir>/<name>` (+ .pub) with ssh-keygen, no passphrase. */
export async function generateKeyPair(
  dir: string,
  name: string,
  comment = name,
): Promise<{ privateKeyPath: string; privateKey: string; publicKey: string }> {
  const privateKeyPath = join(dir, name);
  await mkdir(dir, { recursive: true });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privateKeyPath]);
  return {
    privateKeyPath,
    privateKey: await readFile(privateKeyPath, 'utf8'),
    publicKey: (await readFile(`${privateKeyPath}.pub`, 'utf8')).trim(),
  };
}

// ---------------------------------------------------------------- names, subnet, stale sweep

const PREFIX = 'labgen-th'; // temp dirs: labgen-th-<pid>-XXXXXX
const NETNS_RE = /^lgth-(\d+)-\d+-/; // netns: lgth-<pid>-<X>-<name>
const BRIDGE_ALIAS = 'labgen-test-hosts pid=';

/**
 * Remove what earlier test processes left when they were killed before their
 * teardown ran (their pid is dead). Their processes already died with them
 * (setpriv --pdeathsig + unshare --kill-child); netns names, bridges and
 * temp dirs survive a SIGKILL.
 */
async function sweepStale(): Promise<void> {
  const netns = (await run('ip', ['netns', 'list'])).stdout;
  for (const line of netns.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = NETNS_RE.exec(name);
    if (m && !alive(Number(m[1]))) {
      const pids = (await run('ip', ['netns', 'pids', name])).stdout.split(/\s+/).filter(Boolean);
      pids.forEach((p) => killQuietly(Number(p)));
      await run('ip', ['netns', 'del', name]);
    }
  }
  for (const dev of readdirSync('/sys/class/net').filter((d) => /^lgbr\d+$/.test(d))) {
    let alias = '';
    try {
      alias = readFileSync(`/sys/class/net/${dev}/ifalias`, 'utf8').trim();
    } catch {
      continue;
    }
    if (alias.startsWith(BRIDGE_ALIAS) && !alive(Number(alias.slice(BRIDGE_ALIAS.length)))) {
      await run('ip', ['link', 'del', dev]);
    }
  }
  for (const entry of readdirSync(tmpdir())) {
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(entry);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

/** Third octets of 10.77.X.* already used by addresses or routes on this machine. */
async function usedOctets(): Promise<Set<number>> {
  const text = (await run('ip', ['-4', '-o', 'addr', 'show'])).stdout + (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  return new Set([...text.matchAll(/\b10\.77\.(\d+)\./g)].map((m) => Number(m[1])));
}

/**
 * Reserve a 10.77.X.0/24 for this group. Creating bridge `lgbrX` is atomic
 * (EEXIST if another process got there first), so it doubles as the lock.
 * X starts from the pid so parallel test processes usually get it first try.
 */
async function reserveBridge(): Promise<{ octet: number; bridge: string }> {
  const used = await usedOctets();
  for (let k = 0; k < 254; k++) {
    const octet = ((process.pid + k) % 254) + 1; // 1..254: 10.77.0.0/24 is left for trying a test host by hand
    const bridge = `lgbr${octet}`;
    if (used.has(octet) || existsSync(`/sys/class/net/${bridge}`)) continue;
    const r = await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    if (r.code === 0) {
      await must('ip', ['link', 'set', bridge, 'alias', `${BRIDGE_ALIAS}${process.pid}`]);
      return { octet, bridge };
    }
    if (!/exists/i.test(r.stderr)) throw new Error(`ip link add ${bridge} type bridge: ${r.stderr.trim()}`);
  }
  throw new Error('no free 10.77.X.0/24 for test hosts');
}

// ---------------------------------------------------------------- one host

/**
 * Runs as PID 1 of the host's fresh mount/uts/pid namespaces (already inside
 * its netns). $1 = mount point (outside dir), $2 = staged files, $3 = hostname.
 * Ends by exec'ing sshd, so sshd keeps this pid.
 */
const HOST_SCRIPT = `
mnt=$1 stage=$2 name=$3
mount -t tmpfs -o mode=0755 labgen-test-host "$mnt"
mkdir "$mnt/upper" "$mnt/work" "$mnt/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$mnt/upper,workdir=$mnt/work" "$mnt/root"
r=$mnt/root
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mount --rbind /dev "$r/dev"
hostname "$name"
# the machine's own host keys and root ssh files must not leak into the host
rm -rf "$r"/etc/ssh/ssh_host_* "$r/root/.ssh"
# --no-overwrite-dir: keep modes of existing dirs such as /root (0700)
tar -C "$stage" -cf - . | tar -C "$r" -xf - --no-overwrite-dir
mkdir -m 0755 "$r/run/sshd"
exec chroot "$r" /usr/sbin/sshd -D -e
`;

/** PATH etc. for commands run inside a host: not the test runner's environment. */
const HOST_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
};

function normalizeFile(spec: FileSpec): { content: string | Buffer; mode: number } {
  if (typeof spec === 'string' || Buffer.isBuffer(spec)) return { content: spec, mode: 0o644 };
  return { content: spec.content, mode: spec.mode ?? 0o644 };
}

/** Write `content` at `root + path` with an exact mode (chmod: writeFile's mode is masked by umask). */
async function placeFile(root: string, path: string, spec: FileSpec): Promise<void> {
  if (!path.startsWith('/')) throw new Error(`test host file path must be absolute: ${path}`);
  const { content, mode } = normalizeFile(spec);
  const target = join(root, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  await chmod(target, mode);
}

/** Key file name sshd expects for a public key type (ssh-ed25519 → ssh_host_ed25519_key). */
function hostKeyFile(publicKey: string): string {
  const type = publicKey.split(' ')[0] ?? '';
  const kind = type === 'ssh-rsa' ? 'rsa' : type.startsWith('ecdsa-') ? 'ecdsa' : 'ed25519';
  return `ssh_host_${kind}_key`;
}

/** Put the host key into the staging tree (given or fresh) and return its public half. */
async function stageHostKey(stage: string, name: string, privateKey?: string): Promise<string> {
  const sshDir = join(stage, 'etc/ssh');
  await mkdir(sshDir, { recursive: true });
  const tmp = join(sshDir, 'incoming_host_key');
  if (privateKey === undefined) {
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', tmp]);
  } else {
    await placeFile(stage, '/etc/ssh/incoming_host_key', { content: privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`, mode: 0o600 });
  }
  const publicKey = (await must('ssh-keygen', ['-y', '-f', tmp])).trim().split(' ').slice(0, 2).join(' ');
  const file = hostKeyFile(publicKey);
  await placeFile(stage, `/etc/ssh/${file}`, { content: await readFile(tmp), mode: 0o600 });
  await placeFile(stage, `/etc/ssh/${file}.pub`, `${publicKey} root@${name}\n`);
  await rm(tmp, { force: true });
  await rm(`${tmp}.pub`, { force: true });
  return publicKey;
}

interface HostPlan extends HostInfo {
  netns: string;
  veth: string;
}

async function addHostNetwork(h: HostPlan, bridge: string): Promise<void> {
  await must('ip', ['netns', 'add', h.netns]);
  await must('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
  await must('ip', ['link', 'set', h.veth, 'master', bridge, 'up']);
  await must('ip', ['-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
  await must('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);
}

/** The one child `unshare --fork` made (it becomes sshd), read from /proc. */
async function waitForChildPid(proc: ChildProcess, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const file = `/proc/${proc.pid}/task/${proc.pid}/children`;
  while (Date.now() < deadline && proc.exitCode === null && proc.signalCode === null) {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim().split(' ')[0]);
      if (pid > 0) return pid;
    } catch {
      /* not yet unshare, or gone */
    }
    await sleep(5);
  }
  throw new Error('unshare did not fork its child');
}

/** Resolves with the first bytes a TCP server sends, '' on any failure. */
function readBanner(ip: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port });
    const done = (text: string) => {
      sock.destroy();
      resolve(text);
    };
    sock.setTimeout(timeoutMs, () => done(''));
    sock.once('data', (d) => done(d.toString()));
    sock.once('error', () => done(''));
    sock.once('close', () => done(''));
  });
}

/** Poll ip:22 from the machine side until sshd greets with its SSH banner. */
async function waitForSshd(ip: string, deadline: number, failed: () => string | undefined): Promise<void> {
  for (;;) {
    if ((await readBanner(ip, 22, 1000)).startsWith('SSH-')) return;
    const why = failed();
    if (why) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`sshd on ${ip} did not answer in time`);
    await sleep(50);
  }
}

/** Handle on one host while it starts; filled in step by step so stop() always knows what exists. */
class Host implements TestHost {
  name: string;
  ip: string;
  index: number;
  netns: string;
  veth: string;
  hostKey = '';
  pid = 0;
  private proc?: ChildProcess;
  private exited?: Promise<void>;
  private output = '';
  private stopping?: Promise<void>;

  constructor(plan: HostPlan) {
    ({ name: this.name, ip: this.ip, index: this.index, netns: this.netns, veth: this.veth } = plan);
  }

  get root(): string {
    return `/proc/${this.pid}/root`;
  }

  /** Launch the namespaced setup script; resolves once sshd answers on the host's ip. */
  async start(mnt: string, stage: string, deadline: number): Promise<void> {
    // setpriv --pdeathsig: unshare dies if this test process dies;
    // unshare --kill-child then kills the host's PID 1 and with it the whole host.
    const proc = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'nsenter', `--net=/run/netns/${this.netns}`,
        'unshare', '--mount', '--uts', '--pid', '--fork', '--propagation', 'private', '--kill-child',
        'sh', '-euc', HOST_SCRIPT, 'labgen-test-host', mnt, stage, this.name],
      { stdio: ['ignore', 'pipe', 'pipe'], env: HOST_ENV },
    );
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-65536));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('error', (err) => keep(Buffer.from(`spawn failed: ${err}\n`)));

    this.pid = await waitForChildPid(proc, 5000);
    const failed = () =>
      proc.exitCode !== null || proc.signalCode !== null
        ? `test host ${this.name} exited during start (${proc.exitCode ?? proc.signalCode})`
        : undefined;
    try {
      await waitForSshd(this.ip, deadline, failed);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ${this.name} log ---\n${this.output}`);
    }
  }

  exec(cmd: string, opts: { input?: string | Buffer } = {}): Promise<ExecResult> {
    if (!this.pid || this.stopping) return Promise.reject(new Error(`test host ${this.name} is not running`));
    // -r/-w: the host's root and cwd (its chroot); -p forks into its PID namespace
    const args = ['-t', String(this.pid), '-m', '-u', '-n', '-p', '-r', '-w', '--', '/bin/sh', '-c', cmd];
    return run('nsenter', args, { input: opts.input, env: HOST_ENV });
  }

  readFile(path: string): Promise<string> {
    return readFile(join(this.root, path), 'utf8');
  }

  writeFile(path: string, content: FileSpec): Promise<void> {
    return placeFile(this.root, path, content);
  }

  log(): string {
    return this.output;
  }

  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    await this.kill();
    // deleting one end of a veth pair deletes both; then drop the netns name
    await run('ip', ['link', 'del', this.veth]);
    await run('ip', ['netns', 'del', this.netns]);
  }

  /** Kill the host's PID 1 (the kernel then kills the rest of its PID namespace) and wait for unshare. */
  private async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    killQuietly(this.pid || undefined); // `unshare --fork` itself ignores SIGTERM: kill its child
    const gone = await Promise.race([this.exited!.then(() => true), sleep(3000).then(() => false)]);
    if (!gone) {
      killQuietly(proc.pid); // --kill-child takes the host down with it
      await this.exited;
    }
  }

  /** Synchronous last resort for process 'exit': no awaiting possible there. */
  stopSync(): void {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      killQuietly(this.pid || undefined);
      killQuietly(this.proc.pid);
    }
    for (const args of [['link', 'del', this.veth], ['netns', 'del', this.netns]]) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  }
}

// ---------------------------------------------------------------- the group

/** Groups not yet stopped, for the process 'exit' safety net. */
const live = new Set<Group>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  onProcessEnd(() => live.forEach((g) => g.stopSync()));
}

class Group implements TestHostGroup {
  hosts: Host[] = [];
  bridgeIp: string;
  subnet: string;
  private stopping?: Promise<void>;

  constructor(
    readonly bridge: string,
    readonly octet: number,
    readonly dir: string,
  ) {
    this.bridgeIp = `10.77.${octet}.1`;
    this.subnet = `10.77.${octet}.0/24`;
  }

  host(name: string): TestHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host named ${name}`);
    return h;
  }

  knownHosts(): string {
    return this.hosts.map((h) => `${h.ip} ${h.hostKey}\n`).join('');
  }

  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.hosts.map((h) => h.stop()));
      await run('ip', ['link', 'del', this.bridge]);
      await rm(this.dir, { recursive: true, force: true });
      live.delete(this);
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stopAll();
  }

  stopSync(): void {
    this.hosts.forEach((h) => h.stopSync());
    try {
      execFileSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function hostsFile(plans: HostInfo[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  return `${[...lines, ...plans.map((p) => `${p.ip}\t${p.name}`)].join('\n')}\n`;
}

function sshdConfig(ip: string, hostKey: string): string {
  // 00-: sshd keeps the first value it reads, and this file sorts first in sshd_config.d
  return [
    '# written by test/support/test-hosts.ts',
    `ListenAddress ${ip}`,
    `HostKey /etc/ssh/${hostKeyFile(hostKey)}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    '',
  ].join('\n');
}

const STOCK_BASHRC = existsSync('/etc/skel/.bashrc') ? readFileSync('/etc/skel/.bashrc', 'utf8') : '[ -z "$PS1" ] && return\n';

/** Everything a host's root gets before sshd starts, in <dir>/<name>/stage. */
async function stageHost(plan: HostPlan, all: HostInfo[], stage: string, opts: StartHostsOptions): Promise<string> {
  const hostKey = await stageHostKey(stage, plan.name, opts.hostKeys?.[plan.name]);
  const files: Record<string, FileSpec> = {
    '/etc/hostname': `${plan.name}\n`,
    '/etc/hosts': hostsFile(all),
    '/etc/ssh/sshd_config.d/00-labgen-test-host.conf': sshdConfig(plan.ip, hostKey),
    // a Pi's stock ~/.bashrc, not this machine's (its pyenv/cargo set-up costs ~170 ms on every
    // command sshd runs through bash)
    '/root/.bashrc': STOCK_BASHRC,
  };
  if (opts.authorizedKey) files['/root/.ssh/authorized_keys'] = { content: `${opts.authorizedKey.trim()}\n`, mode: 0o600 };
  const extra = typeof opts.files === 'function' ? opts.files(plan) : (opts.files ?? {});
  for (const [path, spec] of Object.entries({ ...files, ...extra })) await placeFile(stage, path, spec);
  if (existsSync(join(stage, 'root/.ssh'))) await chmod(join(stage, 'root/.ssh'), 0o700); // sshd StrictModes
  return hostKey;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * The script that makes `users` in a host (run inside it): home, shell, password (or none: `*`,
 * which no password matches but which sshd, unlike a locked `!`, lets keys log in to), keys, sudo.
 * The password goes in on stdin, one `user:password` line each, for chpasswd.
 */
function usersScript(users: TestUser[]): string {
  return users
    .flatMap((u) => {
      const home = `/home/${u.name}`;
      const sudo = u.sudo ?? 'nopasswd';
      return [
        `useradd -m -s /bin/bash ${sudo === 'password' ? '-G sudo ' : ''}-p '*' ${u.name}`,
        ...(u.authorizedKey
          ? [
              `install -d -m 0700 -o ${u.name} -g ${u.name} ${home}/.ssh`,
              `printf '%s\\n' '${u.authorizedKey.trim()}' > ${home}/.ssh/authorized_keys`,
              `chown ${u.name}:${u.name} ${home}/.ssh/authorized_keys && chmod 0600 ${home}/.ssh/authorized_keys`,
            ]
          : []),
        ...(sudo === 'nopasswd' ? [`echo '${u.name} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/010_${u.name}-nopasswd && chmod 0440 /etc/sudoers.d/010_${u.name}-nopasswd`] : []),
      ];
    })
    .concat(users.some((u) => u.password !== undefined) ? ['chpasswd'] : [])
    .join(' && ');
}

function checkUsers(users: TestUser[]): void {
  for (const u of users) {
    if (!USER_NAME.test(u.name) || u.name === 'root') throw new Error(`startHosts: bad user name ${JSON.stringify(u.name)}`);
    if (u.authorizedKey?.includes("'")) throw new Error(`startHosts: the key of ${u.name} is not a public key line`);
    if (u.password !== undefined && /[:\n]/.test(u.password)) throw new Error(`startHosts: the password of ${u.name} holds ':' or a newline`);
  }
}

async function addUsers(host: Host, users: TestUser[]): Promise<void> {
  const passwords = users.filter((u) => u.password !== undefined).map((u) => `${u.name}:${u.password}\n`).join('');
  const r = await host.exec(usersScript(users), { input: passwords });
  if (r.code !== 0) throw new Error(`test host ${host.name}: making users failed (${r.code}): ${r.stderr.trim()}`);
}

/**
 * Start `n` test hosts in parallel, each with a real sshd on its own ip,
 * and wait until every sshd answers. On any failure everything already
 * created is torn down before the error is thrown.
 */
export async function startHosts(n: number, opts: StartHostsOptions = {}): Promise<TestHostGroup> {
  const names = opts.names ?? Array.from({ length: n }, (_, i) => `pi${i + 1}`);
  if (names.length !== n || n < 1 || n > 200) throw new Error(`startHosts: need 1..200 names, got ${names.length} for n=${n}`);
  for (const name of names) {
    if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/i.test(name)) throw new Error(`startHosts: bad host name ${JSON.stringify(name)}`);
  }
  checkUsers(opts.users ?? []);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);

  await sweepStale();
  const { octet, bridge } = await reserveBridge();
  installExitHook();
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), `${PREFIX}-${process.pid}-`));
  } catch (err) {
    await run('ip', ['link', 'del', bridge]);
    throw err;
  }
  const group = new Group(bridge, octet, dir);
  live.add(group);
  try {
    await must('ip', ['addr', 'add', `${group.bridgeIp}/24`, 'dev', bridge]);
    await must('ip', ['link', 'set', bridge, 'up']);
    const plans: HostPlan[] = names.map((name, index) => ({
      name,
      index,
      ip: `10.77.${octet}.${index + 2}`,
      netns: `lgth-${process.pid}-${octet}-${name}`,
      veth: `lgv${octet}-${index + 1}`, // ≤ 15 chars: IFNAMSIZ
    }));
    group.hosts = plans.map((p) => new Host(p));
    // allSettled, not all: on failure, teardown must not race hosts still starting
    const results = await Promise.allSettled(
      group.hosts.map(async (host, i) => {
        const plan = plans[i]!;
        const stage = join(dir, host.name, 'stage');
        const mnt = join(dir, host.name, 'mnt');
        await mkdir(mnt, { recursive: true });
        host.hostKey = await stageHost(plan, plans, stage, opts);
        await addHostNetwork(plan, bridge);
        await host.start(mnt, stage, deadline);
        if (opts.users?.length) await addUsers(host, opts.users);
      }),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return group;
  } catch (err) {
    await group.stopAll();
    throw err;
  }
}
