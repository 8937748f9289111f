/**
 * A lab for push/status end-to-end tests, on a group of test hosts (test/support/test-hosts.ts):
 * lab.yaml is written on the group's subnet into a temp lab folder and generated in-process
 * (`generate()`), which makes the lab's SSH key and each Pi's host key and pins them in
 * .labgen/known_hosts. The hosts are then made into the Pis `labgen image` would have made:
 * each gets its labgen host key (sshd re-reads it on SIGHUP), the lab key for root and for the
 * lab user (with passwordless sudo when it is not root).
 *
 * No systemd or NetworkManager runs on a test host, so `systemctl` and `nmcli` are stand-ins
 * (STANDINS): systemctl records calls and keeps unit states (and each start's InvocationID) in files; nmcli's
 * `connection up NAME` really moves the host's address, with ip(8) inside its network
 * namespace, to what the keyfile says. Tests that use them say so in their names.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcp } from 'node:net';
import yaml from 'js-yaml';
import { vi } from 'vitest';
import { generate } from '../../generator/cli/generate.js';
import { openLabFolder } from '../../generator/lab-folder/open.js';
import { pushCommand } from '../../generator/cli/push.js';
import { statusCommand } from '../../generator/cli/status.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import type { HostResult, Timing } from '../../drivers/push/push.js';
import { NMCLI, SYSTEMCTL } from '../support/standins.js';
import { run, type TestHost, type TestHostGroup } from '../support/test-hosts.js';

/**
 * sshd as on Raspberry Pi OS: on every address of the host (the test-host default pins its first
 * address, and a Pi whose address moves must still answer), key logins only.
 */
export const PI_SSHD = `# test/push: sshd on every address, as on Raspberry Pi OS
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
`;

/**
 * SYSTEMCTL, and what push asks of a unit's starts: `show -p InvocationID --value UNIT` prints
 * an id that a `start` of a unit not running and every `restart` renew, as systemd does (empty
 * for a unit never started). Shell builtins only, as SYSTEMCTL.
 */
export const SYSTEMCTL_INVOCATIONS = SYSTEMCTL.replace(
  '  start|restart) for u in "$@"; do : > "$state/active-$u"; done ;;\n',
  [
    '  start) for u in "$@"; do [ -e "$state/active-$u" ] || echo "$$-$RANDOM" > "$state/invocation-$u"; : > "$state/active-$u"; done ;;',
    '  restart) for u in "$@"; do echo "$$-$RANDOM" > "$state/invocation-$u"; : > "$state/active-$u"; done ;;',
    '  show)',
    '    [ "$1 $2 $3" = "-p InvocationID --value" ] || exit 0',
    '    shift 3; [ "${1:-}" = -- ] && shift',
    '    for u in "$@"; do id=; [ ! -e "$state/invocation-$u" ] || read -r id < "$state/invocation-$u"; echo "$id"; done ;;',
    '',
  ].join('\n'),
).replace('# test-host stand-in for systemctl', '# test-host stand-in for systemctl (with InvocationIDs)');
if (!SYSTEMCTL_INVOCATIONS.includes('  show)\n')) throw new Error('test/push/support.ts: SYSTEMCTL changed, SYSTEMCTL_INVOCATIONS no longer adds show');

/** Files every test Pi gets: the stand-ins and sshd's config (overrides test-hosts' own). */
export const STANDINS = {
  '/usr/local/sbin/systemctl': { content: SYSTEMCTL_INVOCATIONS, mode: 0o755 },
  '/usr/local/bin/nmcli': { content: NMCLI, mode: 0o755 },
  '/etc/ssh/sshd_config.d/00-labgen-test-host.conf': PI_SSHD,
};

/** The hosts' Pis: [name, roles]; the first is the Slurm controller. */
export type Roles = Record<string, string[]>;

/**
 * lab.yaml (as an object) for the group: each host a Pi at its address, bookworm (this machine's
 * release). Hosts take .2 up to .201 (test-hosts' limit of 200), so the VM and the services sit
 * above them: a script can point labgen push at any number of hosts with this.
 */
export function labYaml(group: TestHostGroup, user: string, roles: Roles, ips: Record<string, string> = {}) {
  const base = group.subnet.replace(/\.0\/24$/, '');
  const names = group.hosts.map((h) => h.name);
  const compute = names.filter((n) => roles[n]?.includes('compute'));
  const storage = names.some((n) => roles[n]?.includes('storage'));
  return {
    version: 1,
    name: 'pushlab',
    domain: 'push.lab',
    network: { subnet: group.subnet, gateway: group.bridgeIp },
    cluster: { controlPlane: { name: 'cp', ip: `${base}.253` }, workers: { count: 0 } },
    pis: {
      os: 'bookworm',
      user,
      nodes: group.hosts.map((h) => ({ name: h.name, ip: ips[h.name] ?? h.ip, roles: roles[h.name] ?? [] })),
    },
    ...(storage ? { storage: { disk: '/dev/sdz', exports: [{ name: 'vol1', size: '1G' }] } } : {}),
    services: { metallb: { addresses: [`${base}.230-${base}.249`] }, coredns: { ip: `${base}.230` } },
    ...(compute.length ? { slurm: { controller: compute[0], nodes: compute } } : {}),
  };
}

/** `generate()` in-process, quietly (its report goes to stdout). */
export async function regenerate(labFile: string): Promise<void> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await generate({ lab: labFile });
    if (code !== 0) throw new Error(`labgen generate exited ${code}`);
  } finally {
    out.mockRestore();
  }
}

export async function writeLab(labFile: string, lab: object): Promise<void> {
  await writeFile(labFile, yaml.dump(lab));
  await regenerate(labFile);
}

/** The plan of the lab folder, as push sees it. */
export const planOf = (labFile: string): FileSpec[] => openLabFolder(labFile).decisions.flatMap((d) => (d.spec ? [d.spec] : []));

function banner(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcp({ host: ip, port: 22 });
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(1000, () => done(false));
    s.once('data', (d) => done(d.toString().startsWith('SSH-')));
    s.once('error', () => done(false));
  });
}

export async function waitForSshd(ip: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await banner(ip)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd on ${ip} did not come back`);
}

/** `ssh-ed25519 AAAA…` (type and key) the sshd at `ip` shows now, '' when it does not answer. */
async function servedHostKey(ip: string): Promise<string> {
  const r = await run('ssh-keyscan', ['-T', '2', '-t', 'ed25519', ip]);
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${ip} `));
  return line ? line.split(' ').slice(1, 3).join(' ') : '';
}

/**
 * Give a host its labgen host key, as the image would (sshd re-execs itself on SIGHUP and re-reads
 * it). Done when sshd serves the new key: an answer alone may still come from the sshd before
 * its re-exec (no fixed pause guesses how long that takes).
 */
export async function installHostKey(host: TestHost, labDir: string): Promise<void> {
  const dir = join(labDir, '.labgen/secrets/hostkeys', host.name);
  const { readFile } = await import('node:fs/promises');
  const publicKey = (await readFile(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  await host.writeFile('/etc/ssh/ssh_host_ed25519_key', { content: await readFile(join(dir, 'ssh_host_ed25519_key')), mode: 0o600 });
  await host.writeFile('/etc/ssh/ssh_host_ed25519_key.pub', await readFile(join(dir, 'ssh_host_ed25519_key.pub')));
  const r = await host.exec('kill -HUP 1');
  if (r.code !== 0) throw new Error(`HUP sshd on ${host.name}: ${r.stderr}`);
  const end = Date.now() + 20_000; // a bound for a broken sshd, not a wait: the loop ends as soon as the key is served
  let served = '';
  while ((served = await servedHostKey(host.ip)) !== publicKey) {
    if (Date.now() > end) throw new Error(`sshd on ${host.name} does not serve its labgen host key after SIGHUP (serves: ${served || 'nothing'})\n${host.log()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The lab key may log in as root and as `user` (created, with passwordless sudo, when not root). */
export async function authorize(host: TestHost, labDir: string, user: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const key = await readFile(join(labDir, '.labgen/secrets/id_ed25519.pub'), 'utf8');
  await host.writeFile('/root/.ssh/authorized_keys', { content: key, mode: 0o600 });
  if (user === 'root') return;
  const script = [
    `id ${user} >/dev/null 2>&1 || useradd -m -s /bin/bash ${user}`,
    `usermod -p '*' ${user}`, // no password, but not locked: sshd refuses key logins to locked accounts
    `install -d -m 0700 -o ${user} -g ${user} /home/${user}/.ssh`,
    `cat > /home/${user}/.ssh/authorized_keys`, // stdin: node's pipe is a socket, which /dev/stdin cannot reopen
    `chown ${user}:${user} /home/${user}/.ssh/authorized_keys && chmod 0600 /home/${user}/.ssh/authorized_keys`,
    `echo '${user} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/labgen-test && chmod 0440 /etc/sudoers.d/labgen-test`,
  ].join(' && ');
  const r = await host.exec(script, { input: key });
  if (r.code !== 0) throw new Error(`user ${user} on ${host.name}: ${r.stderr}`);
}

export interface LabOnHosts {
  dir: string;
  labFile: string;
  cleanup(): Promise<void>;
}

/** A lab folder for the group, generated, with the hosts made into its Pis. */
export async function labOnHosts(group: TestHostGroup, user: string, roles: Roles, rekey: string[] = group.hosts.map((h) => h.name)): Promise<LabOnHosts> {
  const dir = await mkdtemp(join(tmpdir(), 'labgen-push-'));
  const labFile = join(dir, 'lab.yaml');
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await writeLab(labFile, labYaml(group, user, roles));
    for (const h of group.hosts) {
      await authorize(h, dir, user);
      if (rekey.includes(h.name)) await installHostKey(h, dir);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { dir, labFile, cleanup };
}

export interface Ran {
  code: number;
  out: string;
  err: string;
  results: HostResult[];
}

/** Quick timeouts for tests: a cut-over that cannot work gives up in seconds. */
export const TEST_TIMING: Partial<Timing> = { connectTimeoutMs: 5000, confirmTimeoutMs: 4000, guardMarginMs: 2000, rollbackWaitMs: 15_000 };

export async function push(
  labFile: string,
  nodes: string[] = [],
  { timing, ...extra }: { dryRun?: boolean; trustNew?: boolean; concurrency?: number; timing?: Partial<Timing> } = {},
): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  let results: HostResult[] = [];
  const code = await pushCommand(nodes, {
    lab: labFile,
    ...extra,
    io: { out: (l) => out.push(l), err: (l) => err.push(l), tty: false },
    timing: { ...TEST_TIMING, ...timing },
    onResults: (r) => (results = r),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), results };
}

export async function status(labFile: string): Promise<Omit<Ran, 'results'>> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await statusCommand({ lab: labFile, timing: TEST_TIMING, io: { out: (l) => out.push(l), err: (l) => err.push(l), tty: false } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `sha256 mode owner` of a file on a host ('missing' if absent). */
export async function remoteFile(host: TestHost, path: string): Promise<string> {
  const r = await host.exec(`[ -f '${path}' ] && echo "$(sha256sum < '${path}' | cut -c1-64) $(stat -c '%a %U:%G' '${path}')" || echo missing`);
  return r.stdout.trim();
}

export const byHost = (ran: Ran) => new Map(ran.results.map((r) => [r.node, r]));
export const uploadedPaths = (r: HostResult | undefined) => (r?.uploaded ?? []).map((c) => c.file.path).sort();
