/**
 * libvirt for the VM test bed: the daemons, and what the bed defines in them.
 *
 * There is no systemd on the test machine, so nothing starts libvirtd: the first bed that
 * needs it starts virtlogd and libvirtd itself (their PIDs go in a state file), every bed
 * registers itself as a user, and the last user to leave stops the daemons it started, by
 * PID, and removes the empty LIBVIRT_* iptables chains libvirtd leaves behind. A libvirtd
 * that was already running (started by CI or by hand) is used and left running.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { must, run } from './proc.js';

export const LIBVIRT_URI = 'qemu:///system';
const STATE = '/run/labgen-vmbed';
const USERS = join(STATE, 'users');
const STARTED = join(STATE, 'started.json');
const LOCK = join(STATE, 'daemons.lock');

export const virsh = (...args: string[]) => must('virsh', ['-q', '-c', LIBVIRT_URI, ...args]);
const virshTry = (...args: string[]) => run('virsh', ['-q', '-c', LIBVIRT_URI, ...args]);

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
export { alive as pidAlive };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** libvirtd answers on its socket */
async function answering(): Promise<boolean> {
  return (await virshTry('version')).code === 0;
}

/**
 * libvirtd with its QEMU running as root: a copy of qemu.conf that says so, bound over it in a
 * mount namespace of libvirtd's own (the machine's file stays as it is; the PID stays libvirtd's:
 * each step execs the next). The test machine's /dev/kvm is root's alone (no udev gives it to the
 * kvm group): libvirtd probes QEMU as root and finds KVM, then finds the device closed to its QEMU
 * user (libvirt-qemu) and throws the probe away, on every call (a minute or two per `vagrant up`).
 * The bed's guests run under TCG anyway (VAGRANT_HOME/Vagrantfile).
 */
const AS_ROOT = `conf=$(mktemp) && cat /etc/libvirt/qemu.conf >"$conf" && printf 'user = "root"\\ngroup = "root"\\n' >>"$conf" && mount --bind "$conf" /etc/libvirt/qemu.conf && rm -f "$conf" && exec libvirtd`;

/** A daemon in the background, detached from this process, its output in `log`. */
function startDaemon(cmd: string, log: string, args: string[] = []): number {
  const out = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  if (!child.pid) throw new Error(`could not start ${cmd}`);
  return child.pid;
}

/** `fn` under the daemons' lock (flock on a file: test processes run in parallel). */
async function locked<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(USERS, { recursive: true });
  // flock(1) holds the lock while `cat` waits for our stdin to close
  const holder = spawn('flock', [LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock ${LOCK} exited ${code}`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
  }
}

/** Users whose process is gone are dropped; the live ones are returned. */
function liveUsers(): number[] {
  const pids = readdirSync(USERS).map(Number).filter(Number.isInteger);
  for (const pid of pids.filter((p) => !alive(p))) rmSync(join(USERS, String(pid)), { force: true });
  return pids.filter(alive);
}

/** The daemons up (started here when none answers), with this process registered as a user. */
export async function acquireLibvirt(logDir: string): Promise<void> {
  await locked(async () => {
    liveUsers();
    if (!(await answering())) {
      // virtlogd first: libvirtd hands the guests' console output to it
      const virtlogd = startDaemon('virtlogd', join(logDir, 'virtlogd.log'));
      const libvirtd = startDaemon('unshare', join(logDir, 'libvirtd.log'), ['--mount', '--propagation', 'private', 'sh', '-c', AS_ROOT]);
      writeFileSync(STARTED, JSON.stringify({ virtlogd, libvirtd }));
      for (let i = 0; !(await answering()); i++) {
        if (i > 300 || !alive(libvirtd)) throw new Error(`libvirtd did not answer on ${LIBVIRT_URI}; see ${join(logDir, 'libvirtd.log')}`);
        await sleep(100);
      }
    }
    writeFileSync(join(USERS, String(process.pid)), '');
  });
}

/** This process is done with libvirt; the last user stops the daemons a bed started. */
export async function releaseLibvirt(): Promise<void> {
  await locked(async () => {
    rmSync(join(USERS, String(process.pid)), { force: true });
    if (liveUsers().length > 0 || !existsSync(STARTED)) return;
    const started = JSON.parse(readFileSync(STARTED, 'utf8')) as { virtlogd: number; libvirtd: number };
    // other libvirt networks (not the bed's) keep the daemon: it serves them
    const others = (await virshTry('net-list', '--name')).stdout.trim();
    if (others) return;
    for (const pid of [started.libvirtd, started.virtlogd]) {
      if (!alive(pid)) continue;
      process.kill(pid, 'SIGTERM');
      for (let i = 0; alive(pid) && i < 100; i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(STARTED, { force: true });
    await removeLibvirtChains();
  });
}

/**
 * libvirtd adds LIBVIRT_* chains (and jumps to them from INPUT, FORWARD, OUTPUT, POSTROUTING)
 * when it starts a network, and leaves them, empty, when it stops: remove them, IPv4 and IPv6.
 */
export async function removeLibvirtChains(): Promise<void> {
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const rules = (await run(tool, ['-w', '-t', table, '-S'])).stdout.split('\n');
      for (const rule of rules.filter((r) => /^-A \S+ .*-j LIBVIRT_\w+$/.test(r))) {
        await run(tool, ['-w', '-t', table, ...rule.replace(/^-A /, '-D ').split(' ')]);
      }
      for (const chain of rules.map((r) => /^-N (LIBVIRT_\w+)$/.exec(r)?.[1]).filter((c): c is string => !!c)) {
        await run(tool, ['-w', '-t', table, '-F', chain]);
        await run(tool, ['-w', '-t', table, '-X', chain]);
      }
    }
  }
}

/** An isolated libvirt network (no `<forward>`, DNS off), DHCP on: Vagrant finds its VMs by their lease. */
export function isolatedNetworkXml(name: string, bridge: string, gateway: string, dhcp: [string, string]): string {
  return `<network>
  <name>${name}</name>
  <bridge name='${bridge}' stp='off'/>
  <dns enable='no'/>
  <ip address='${gateway}' netmask='255.255.255.0'>
    <dhcp><range start='${dhcp[0]}' end='${dhcp[1]}'/></dhcp>
  </ip>
</network>
`;
}

/** Every domain whose name starts with `prefix`: stopped and undefined. */
export async function removeDomains(prefix: string): Promise<string[]> {
  const names = (await virshTry('list', '--all', '--name')).stdout.split('\n').map((s) => s.trim()).filter((n) => n.startsWith(prefix));
  for (const name of names) {
    await virshTry('destroy', name);
    await virshTry('undefine', name);
  }
  // libvirt keeps each domain's qemu and virtiofsd logs after it is gone
  const logs = '/var/log/libvirt/qemu';
  if (existsSync(logs)) {
    for (const f of readdirSync(logs).filter((f) => f.startsWith(prefix) && f.endsWith('.log'))) rmSync(join(logs, f), { force: true });
  }
  return names;
}

/** A (transient) pool and its volumes gone. */
export async function removePool(name: string): Promise<void> {
  if ((await virshTry('pool-info', name)).code !== 0) return;
  const vols = (await virshTry('vol-list', '--pool', name)).stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
  for (const vol of vols) await virshTry('vol-delete', '--pool', name, vol!);
  await virshTry('pool-destroy', name);
  await virshTry('pool-undefine', name);
}

/** A (transient) network gone. */
export async function removeNetwork(name: string): Promise<void> {
  if ((await virshTry('net-info', name)).code !== 0) return;
  await virshTry('net-destroy', name);
  await virshTry('net-undefine', name);
}
