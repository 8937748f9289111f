/**
 * Stock Raspberry Pi OS hosts for the adopt tests, on test hosts (test/support/test-hosts.ts):
 * sshd as the stock OS runs it (no HostKey line, so its defaults: rsa, ecdsa and ed25519, each a
 * key of the host's own; passwords taken), login users of the user's own, and push's
 * stand-ins for systemctl and nmcli (test/push/support.ts) so a push can follow an adopt.
 * The user's own keys live in a temp HOME the test makes: the machine's ~/.ssh is never read.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adoptCommand, type AdoptCommandOptions } from '../../generator/cli/adopt.js';
import type { AdoptResult } from '../../drivers/adopt/adopt.js';
import { fingerprint } from '../../drivers/base/known-hosts.js';
import { STANDINS } from '../push/support.js';
import { generateKeyPair, run, type FileSpec, type TestHost, type HostInfo } from '../support/test-hosts.js';

/** sshd_config.d as on a stock Pi flashed with a password: nothing about host keys, passwords on (the test-host default pins its own key and takes none). */
export const STOCK_SSHD = `# test/adopt: sshd as on a stock Raspberry Pi OS flashed with a password: no HostKey line
# (sshd's defaults: rsa, ecdsa, ed25519), password logins taken
PasswordAuthentication yes
`;

/** Host keys of the types a stock OS makes besides ed25519 (test-hosts makes that one), one set per host. */
async function otherHostKeys(dir: string, host: string): Promise<Record<string, FileSpec>> {
  const files: Record<string, FileSpec> = {};
  for (const [type, bits] of [['ecdsa', '256'], ['rsa', '2048']] as const) {
    const path = join(dir, `${host}-${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-b', bits, '-N', '', '-C', `root@${host}`, '-f', path]);
    files[`/etc/ssh/ssh_host_${type}_key`] = { content: readFileSync(path), mode: 0o600 };
    files[`/etc/ssh/ssh_host_${type}_key.pub`] = readFileSync(`${path}.pub`);
  }
  return files;
}

/** Every stock host's files: push's stand-ins, the stock sshd config and the other host keys. */
export async function stockFiles(dir: string, names: string[]): Promise<(h: HostInfo) => Record<string, FileSpec>> {
  const keys = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await otherHostKeys(dir, n)] as const)));
  return (h) => ({ ...STANDINS, '/etc/ssh/sshd_config.d/00-labgen-test-host.conf': STOCK_SSHD, ...keys[h.name] });
}

/** A HOME of the user's own for the test: ~/.ssh/id_ed25519 when `withKey`, else an empty ~/.ssh. */
export async function userHome(withKey: boolean): Promise<{ home: string; publicKey?: string; privateKeyPath?: string }> {
  const home = mkdtempSync(join(tmpdir(), 'labgen-adopt-home-'));
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  if (!withKey) return { home };
  const key = await generateKeyPair(join(home, '.ssh'), 'id_ed25519', 'alice@laptop');
  return { home, publicKey: key.publicKey, privateKeyPath: key.privateKeyPath };
}

/** A real ssh-agent holding the keys at `privateKeyPaths`, on a socket in `dir`; stop() kills it by its pid. */
export async function startAgent(dir: string, ...privateKeyPaths: string[]): Promise<{ socket: string; stop(): void }> {
  const socket = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const stop = () => {
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGTERM');
  };
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    const added = await run('ssh-add', privateKeyPaths, { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    if (added.code !== 0) throw new Error(`ssh-add: ${added.stderr}`);
  } catch (e) {
    stop();
    throw e;
  }
  return { socket, stop };
}

/** The host key a host presents now for ed25519, as `SHA256:…` ('' when none answers). */
export async function servedFingerprint(ip: string): Promise<string> {
  const r = await run('ssh-keyscan', ['-T', '3', '-t', 'ed25519', ip]);
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${ip} `));
  return line ? fingerprint(Buffer.from(line.split(' ')[2]!, 'base64')) : '';
}

/**
 * The real ssh client as the user runs it from the lab folder: `ssh -F laptop/ssh_config NODE true`
 * (HostKeyAlias NODE: the pins under the node's name), `hostName` in place of the config's. HOME
 * is a temp one: the machine's ~/.ssh is neither read nor written.
 */
export function sshFromLab(labDir: string, home: string, node: string, hostName?: string) {
  const args = ['-F', 'laptop/ssh_config', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', ...(hostName ? ['-o', `HostName=${hostName}`] : []), node, 'true'];
  return run('sh', ['-c', 'cd "$1" && shift && exec ssh "$@"', 'sh', labDir, ...args], { env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '' } });
}

export const fingerprintOfLine = (publicLine: string) => fingerprint(Buffer.from(publicLine.trim().split(/\s+/)[1]!, 'base64'));

/** labgen's host key for `node`, public line. */
export const labHostKey = (labDir: string, node: string) => readFileSync(join(labDir, `.labgen/secrets/hostkeys/${node}/ssh_host_ed25519_key.pub`), 'utf8');

/**
 * What adopt may change on a host, as one text: the host keys' and authorized_keys' bytes
 * (sha256), the users, the sudoers files, sshd's drop-ins. Equal before and after: nothing changed.
 */
export async function hostPicture(host: TestHost): Promise<string> {
  const r = await host.exec(
    [
      'cd /etc/ssh && sha256sum ssh_host_*',
      'for u in alice bob pi; do f=/home/$u/.ssh/authorized_keys; [ -f $f ] && echo "$u $(sha256sum < $f)"; done; true',
      'getent passwd pi || echo "no pi"',
      // the files, not their folders' times: a temp made and removed again changes nothing
      'find /etc/sudoers.d /etc/ssh/sshd_config.d -type f -exec stat -c "%n %a %U:%G" {} + -exec sha256sum {} + | sort',
    ].join('; '),
  );
  if (r.code !== 0) throw new Error(`picture of ${host.name}: ${r.stderr}`);
  return r.stdout;
}

export interface Adopted {
  code: number;
  out: string;
  err: string;
  results: AdoptResult[];
}

/** `labgen adopt` in-process, no terminal, with the user's HOME and agent given (never the machine's). */
export async function adopt(nodes: string[], opts: Omit<AdoptCommandOptions, 'io' | 'onResults'> & { home: string }): Promise<Adopted> {
  const out: string[] = [];
  const err: string[] = [];
  let results: AdoptResult[] = [];
  const code = await adoptCommand(nodes, {
    agent: null,
    timing: { connectTimeoutMs: 5000 },
    ...opts,
    io: { out: (l) => out.push(l), err: (l) => err.push(l), tty: false },
    onResults: (r) => (results = r),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), results };
}

export const readText = (path: string) => readFile(path, 'utf8');

/**
 * The built CLI in a real terminal: a private tmux server on a socket in `box` (a fixed 160x50
 * window; killed by kill()), the command's exit code written to a file when it ends.
 */
export function terminal(box: string, argv: string[], env: Record<string, string | undefined>) {
  const server = join(box, `tmux-${Date.now()}.sock`);
  const exitFile = `${server}.exit`;
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const unset = Object.keys(env).filter((k) => env[k] === undefined).map((k) => `-u ${k}`);
  const set = Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => q(`${k}=${v}`));
  const shell = `env ${[...unset, ...set].join(' ')} ${argv.map(q).join(' ')}; echo $? > ${q(exitFile)}; sleep 600`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', server, ...args], { encoding: 'utf8' });
  tmux('-f', '/dev/null', 'new-session', '-d', '-x', '160', '-y', '50', 'sh', '-c', shell);
  tmux('set-option', '-g', 'history-limit', '5000');
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-2000');
  const poll = async <T>(what: string, check: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 600; i++) {
      const v = check();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; the screen:\n${screen()}`);
  };
  return {
    screen,
    /** literal text, then Enter */
    type: (text: string) => {
      tmux('send-keys', '-l', text);
      tmux('send-keys', 'Enter');
    },
    /** keys as tmux names them (C-c, Enter) */
    keys: (...keys: string[]) => tmux('send-keys', ...keys),
    waitFor: (re: RegExp) => poll(String(re), () => (re.test(screen()) ? screen() : undefined)),
    exitCode: () => poll('the command to end', () => (existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() ? Number(readFileSync(exitFile, 'utf8')) : undefined)),
    kill: () => {
      try {
        execFileSync('tmux', ['-S', server, 'kill-server'], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    },
  };
}
