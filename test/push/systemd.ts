/**
 * systemd itself on a test host, where no systemd runs as PID 1: this machine's systemd binary
 * started as a user-mode manager with XDG_RUNTIME_DIR=/run, so it listens on
 * /run/systemd/private, the very socket root's `systemctl` and `systemd-run` talk to (they speak
 * to the manager directly, not through D-Bus). /run/systemd/system is made too, which is how
 * scripts (and labgen's cut-over) tell that systemd runs. The manager is a process of the host:
 * it dies with the host's PID namespace (TestHost.stop).
 *
 * A manager takes the cgroup it finds itself in as its own and moves every process there into
 * its init.scope, so it must never see this machine's cgroups: it gets a cgroup of its own
 * (`labgen-th-systemd-<netns>` in the cgroup2 hierarchy) inside a cgroup namespace, with that
 * cgroup mounted as the host's /sys/fs/cgroup. stopSystemd removes the cgroup once the host
 * has stopped.
 *
 * What differs from PID 1: units come from the user unit path (/etc/systemd/user/), there is no
 * journal (MANAGER_LOG has what the start printed), and a user manager's PATH (set-environment gives it the system manager's, as on a
 * Pi). Timers, transient units, InvocationID and the rest are the same code as under PID 1.
 */
import { shellQuote as q } from '../../generator/common/quote.js';
import { run, type TestHost } from '../support/test-hosts.js';

export const MANAGER_LOG = '/tmp/labgen-test-systemd.log';

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const cgroupOf = (host: TestHost) => `labgen-th-systemd-${host.netns}`;

/** Start the manager on `host`; resolves once `systemctl` gets answers from it. */
export async function startSystemd(host: TestHost, timeoutMs = 20_000): Promise<void> {
  const cg = cgroupOf(host);
  const manager = [
    'set -e',
    // into a cgroup of its own, seen through a mount of the hierarchy that is gone again at once
    'mkdir -p /run/labgen-cg',
    'mount -t cgroup2 labgen-test /run/labgen-cg',
    `mkdir /run/labgen-cg/${cg}`,
    `echo $$ > /run/labgen-cg/${cg}/cgroup.procs`,
    'umount /run/labgen-cg && rmdir /run/labgen-cg',
    'mkdir -p /run/systemd/system',
    // its log would go to /dev/console, the machine's: nowhere instead (systemctl tells what a test needs)
    `exec unshare --cgroup sh -c ${q('mount -t cgroup2 labgen-test /sys/fs/cgroup && XDG_RUNTIME_DIR=/run exec /lib/systemd/systemd --user --log-target=null')}`,
  ].join('\n');
  const start = await host.exec(`setsid sh -c ${q(manager)} > ${MANAGER_LOG} 2>&1 < /dev/null &`);
  if (start.code !== 0) throw new Error(`systemd on ${host.name}: ${start.stderr}`);
  const end = Date.now() + timeoutMs; // a bound for a broken start, not a wait: the loop ends once it answers
  for (;;) {
    const r = await host.exec(`[ -S /run/systemd/private ] && systemctl set-environment PATH=${SYSTEM_PATH} && systemctl is-system-running`);
    // a user manager with nothing failed says running (or degraded): it answers either way
    if (/^(running|degraded)$/m.test(r.stdout)) return;
    if (Date.now() > end) throw new Error(`systemd on ${host.name} did not answer: ${r.stdout}${r.stderr}\n${await managerLog(host)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * After `host` stopped (its processes are gone with its PID namespace): remove the manager's
 * cgroup tree, through a mount of the cgroup2 hierarchy in a mount namespace of its own.
 */
export async function stopSystemd(host: TestHost): Promise<void> {
  const script = [
    'd=$(mktemp -d)',
    'mount -t cgroup2 labgen-test "$d"',
    // a cgroup whose last process is still being reaped is busy for a moment
    `i=0; while [ -e "$d/${cgroupOf(host)}" ] && [ "$i" -lt 50 ]; do find "$d/${cgroupOf(host)}" -depth -type d -exec rmdir {} + 2>/dev/null || sleep 0.1; i=$((i + 1)); done`,
    `[ ! -e "$d/${cgroupOf(host)}" ]; rc=$?`,
    'umount "$d"; rmdir "$d"; exit $rc',
  ].join('\n');
  const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script]);
  if (r.code !== 0) throw new Error(`could not remove the cgroup ${cgroupOf(host)}: ${r.stderr}`);
}

export const managerLog = async (host: TestHost) => (await host.exec(`cat ${MANAGER_LOG}`)).stdout;

/** `systemctl show UNIT -p NAME…` as an object (LoadState=not-found for a unit that is gone). */
export async function unitProps(host: TestHost, unit: string, names: string[]): Promise<Record<string, string>> {
  const r = await host.exec(`systemctl show ${unit} ${names.map((n) => `-p ${n}`).join(' ')}`);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** The names of the timers the manager has loaded whose name starts with `prefix`. */
export async function timers(host: TestHost, prefix: string): Promise<string[]> {
  const r = await host.exec(`systemctl list-units --all --plain --no-legend --type=timer '${prefix}*'`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((u) => u.startsWith(prefix))
    .sort();
}
