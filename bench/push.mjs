#!/usr/bin/env node
// Benchmark (issue #6): `labgen push` wall time against `ansible-playbook` doing the same copy +
// handler work, both measured in this run on the same kind of hosts. Not a test: it prints a table.
//
// Hosts: BENCH_HOSTS (default 20) test hosts (test/support/test-hosts.ts: network namespaces with
// their own root and a real sshd; needs root). systemctl is the test-host stand-in from
// test/push/support.ts (no systemd runs here): a restart only records itself.
// The lab: every Pi has role compute and slurmctld runs in k8s, so each Pi gets the same 10 small
// files from `labgen generate` (4 rootfs targets, their 4 stage copies under /var/lib/labgen,
// setup.sh, munge.key; ~10 KB in all) and one restart handler (slurmd).
// Sides, each on FRESH hosts for its first push, its no-op push right after:
//   labgen      `node dist/bin/labgen.js push --lab … --concurrency N` (the built CLI, a process)
//   ansible     ansible-playbook (Debian's ansible-core), facts off, pipelining on, forks=N,
//               Python interpreter pinned (no discovery), ControlPersist as Ansible ships it;
//               the same 10 files per host (content, path, mode, root:root) + a handler
//               `systemctl restart slurmd` notified by the copy, in two forms:
//                 loop  one copy task looping over the 10 files (after a file task making
//                       their 5 folders: copy makes no parent folders for a single file)
//                 dir   one copy task for the host's whole tree (`src: <tree>/ dest: / mode: preserve`)
//   labgen 1 host, for the scaling target.
// Same trust for both: the lab's key, its known_hosts with every Pi's pinned host key,
// StrictHostKeyChecking yes (labgen checks its pins itself, always).
// Targets: labgen ≤ 0.05× the faster Ansible form, first push and no-op; 20 hosts ≤ 2.5× 1 host.
// labgen is cheap to repeat: BENCH_RUNS (3) rounds, median shown; Ansible runs once (~100 s a run).
// Env: BENCH_HOSTS (20), BENCH_RUNS (3), BENCH_ANSIBLE (forms to run, default "loop,dir"; "" skips Ansible while
// working on this script). Installs ansible-core with apt-get if it is missing.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = resolve(ROOT, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin.labgen);
const N = Number(process.env.BENCH_HOSTS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3); // labgen rounds (fresh hosts each); Ansible runs once
const FORMS = (process.env.BENCH_ANSIBLE ?? 'loop,dir').split(',').filter(Boolean);
const TARGET_RATIO = 0.05;
const TARGET_SCALING = 2.5;
const CORES = availableParallelism();
const log = (line) => process.stderr.write(`[bench/push] ${line}\n`);

// ---------------------------------------------------------------- prerequisites

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function prerequisites() {
  if (process.getuid?.() !== 0) throw new Error('bench/push needs root (network namespaces, mounts, sshd)');
  for (const cmd of ['ip', 'sshd', 'ssh', 'unshare', 'nsenter', 'setpriv', 'sha256sum'])
    if (!onPath(cmd)) throw new Error(`bench/push needs ${cmd} (.ci/run lists the Debian packages that bring it)`);
  if (!existsSync(CLI)) {
    log(`${CLI} missing: npm run build`);
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
  }
  if (FORMS.length && !onPath('ansible-playbook')) {
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'ansible-core'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status === 0;
    log('ansible-playbook missing: apt-get install ansible-core');
    if (!install()) {
      log('apt-get update, then install again');
      spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (!install()) throw new Error('apt-get install ansible-core failed');
    }
  }
}

/**
 * The test support is TypeScript: bundle what the bench needs (bench/push/hosts.ts) with esbuild
 * into bench/push/ (so the bundle finds node_modules and the package root as the sources do),
 * import it, and remove the file on the way out.
 */
async function loadHelpers(cleanups) {
  const { build } = await import('esbuild');
  const out = join(ROOT, 'bench/push', `.bundle-${process.pid}.mjs`);
  cleanups.push(() => rmSync(out, { force: true }));
  await build({
    entryPoints: [join(ROOT, 'bench/push/hosts.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    alias: { vitest: join(ROOT, 'bench/push/vitest-shim.mjs') },
    logLevel: 'warning',
  });
  return import(pathToFileURL(out).href);
}

// ---------------------------------------------------------------- running and timing a process

const TICK = 100; // USER_HZ: /proc times are in 1/100 s on Linux

/** CPU seconds: the whole machine busy, and what this process waited for (its finished children). */
function cpuNow() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + cpu[4]; // idle + iowait
  const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - idle; // user..steal
  const self = readFileSync('/proc/self/stat', 'utf8');
  const f = self.slice(self.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return { busy: busy / TICK, children: (Number(f[13]) + Number(f[14])) / TICK }; // cutime + cstime
}

/**
 * Run a program; wall time from spawn to exit, each stdout line with when it arrived (s), and
 * CPU: `own` is the program and everything it waited for (for Ansible its forks, not its
 * ControlPersist ssh masters), `machine` all busy CPU meanwhile (the hosts' sshd, shells,
 * setup.sh, Python modules: the simulated Pis share this machine's cores).
 */
function timed(cmd, args, opts = {}) {
  return new Promise((resolveRun) => {
    const c0 = cpuNow();
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let partial = '';
    let err = '';
    child.stdout.on('data', (d) => {
      const t = (performance.now() - t0) / 1000;
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop();
      for (const text of parts) lines.push({ t, text });
    });
    child.stderr.on('data', (d) => (err += d.toString()));
    child.on('close', (code) => {
      const s = (performance.now() - t0) / 1000;
      const c1 = cpuNow();
      if (partial) lines.push({ t: s, text: partial });
      const cpu = { own: c1.children - c0.children, machine: c1.busy - c0.busy };
      resolveRun({ s, code, lines, cpu, out: lines.map((l) => l.text).join('\n'), err });
    });
  });
}

function mustSucceed(what, r) {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n--- stdout (tail)\n${r.out.slice(-4000)}\n--- stderr (tail)\n${r.err.slice(-4000)}`);
}

// ---------------------------------------------------------------- hosts and the lab

/**
 * lab.yaml for the group: every Pi compute, slurmctld in k8s (so no Pi is the controller and
 * all get the same files), generated; the hosts made into its Pis (lab key for root, the
 * labgen host key installed and pinned), as test/push/support.ts's labOnHosts does.
 */
async function makeLab(h, group, dir) {
  const labFile = join(dir, 'lab.yaml');
  const names = group.hosts.map((x) => x.name);
  const base = group.subnet.replace(/\.0\/24$/, '');
  const lab = h.labYaml(group, 'root', Object.fromEntries(names.map((n) => [n, ['compute']])));
  lab.slurm = { controller: 'k8s', ip: `${base}.231`, nodes: names };
  lab.services = { ...lab.services, certManager: {}, registry: { ip: `${base}.232` } };
  await h.writeLab(labFile, lab);
  await Promise.all(
    group.hosts.map(async (x) => {
      await h.authorize(x, dir, 'root');
      await h.installHostKey(x, dir);
    }),
  );
  const { targets } = h.loadTargets({ lab: labFile }, []);
  return { dir, labFile, targets };
}

/**
 * root's ~/.bashrc on a host: Debian's stock one, as on Raspberry Pi OS, which returns at once
 * when not interactive. A test host's root is this machine's / underneath, and bash sources
 * ~/.bashrc for every command sshd runs: this machine's /root/.bashrc (pyenv init, cargo env)
 * would add ~150 ms to every remote command of both sides (measured: 170 ms vs 15 ms per exec).
 */
const STOCK_BASHRC = existsSync('/etc/skel/.bashrc') ? readFileSync('/etc/skel/.bashrc') : '# non-interactive: nothing\n[ -z "$PS1" ] && return\n';

/** Fresh hosts and their lab for `fn`; everything torn down afterwards, also on failure. */
async function withHosts(h, n, fn) {
  const t = performance.now();
  const group = await h.startHosts(n, { files: { ...h.STANDINS, '/root/.bashrc': STOCK_BASHRC }, readyTimeoutMs: 60_000 });
  const dir = mkdtempSync(join(tmpdir(), 'labgen-bench-push-'));
  try {
    const lab = await makeLab(h, group, dir);
    log(`${n} fresh host(s) and their lab ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return await fn(group, lab);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Each host's 10 files as `sha256 mode owner path` (or `missing path`), in one command per host. */
async function filesOn(host, files) {
  const paths = files.map((f) => q(f.path)).join(' ');
  const r = await host.exec(
    `for p in ${paths}; do if [ -f "$p" ]; then echo "$(sha256sum < "$p" | cut -c1-64) $(stat -c '%a %U:%G' "$p") $p"; else echo "missing $p"; fi; done`,
  );
  return r.stdout.trim().split('\n');
}

/**
 * Every host holds exactly the generated files (content, mode, owner) and (re)started slurmd after
 * they were placed: Ansible's handler restarts it; labgen's setup.sh starts it on a fresh host,
 * so push does not restart it again.
 */
async function checkDelivered(group, targets, side) {
  const problems = [];
  for (const t of targets) {
    const host = group.host(t.node);
    const want = t.files.map((f) => `${f.sha256} ${f.mode.toString(8)} ${f.owner} ${f.path}`);
    const have = await filesOn(host, t.files);
    want.forEach((w, i) => w !== have[i] && problems.push(`${t.node}: want ${w}, have ${have[i]}`));
    if (!/^systemctl (re)?start slurmd$/m.test(await standinLog(host))) problems.push(`${t.node}: slurmd was not (re)started`);
  }
  if (problems.length) throw new Error(`${side}: first push did not deliver:\n  ${problems.slice(0, 10).join('\n  ')}`);
}

const standinLog = async (host) => (await host.exec('cat /var/log/standin.log 2>/dev/null')).stdout;
const standinLogs = (group) => Promise.all(group.hosts.map(standinLog));

// ---------------------------------------------------------------- the labgen side

async function labgenSide(h, n) {
  return withHosts(h, n, async (group, lab) => {
    const push = () => timed(process.execPath, [CLI, 'push', '--lab', lab.labFile, '--concurrency', String(n)]);
    const first = await push();
    mustSucceed('labgen push (first)', first);
    if (!first.out.includes(`pushed: ${n} Pi(s), ${n} changed`)) throw new Error(`labgen first push: unexpected report\n${first.out}`);
    await checkDelivered(group, lab.targets, 'labgen');
    const before = await standinLogs(group);
    const noop = await push();
    mustSucceed('labgen push (no-op)', noop);
    if (!noop.out.includes(`pushed: ${n} Pi(s), 0 changed`)) throw new Error(`labgen no-op push changed something\n${noop.out}`);
    if (JSON.stringify(await standinLogs(group)) !== JSON.stringify(before)) throw new Error('labgen no-op push ran a handler');
    return { first, noop, files: lab.targets[0].files, handlers: handlersOf(first.out) };
  });
}

/** The handlers column of labgen's report (the same on every host here). */
function handlersOf(out) {
  const row = out.split('\n').find((l) => /^pi\d+ +\d+\.\d+\.\d+\.\d+ +\d+ /.test(l));
  return row ? row.split(/ {2,}/)[3] : '?';
}

// ---------------------------------------------------------------- the Ansible side

/** A playbook folder for the lab: the hosts' files as a local tree, inventory, config, the play. */
function ansibleFolder(lab, group, form) {
  const adir = join(lab.dir, 'ansible');
  const files = join(adir, 'files');
  for (const t of lab.targets) {
    for (const f of t.files) {
      const p = join(files, t.node, f.path);
      mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
      writeFileSync(p, f.content);
      chmodSync(p, f.mode);
    }
    chmodSync(join(files, t.node, 'var/lib/labgen/secrets'), 0o700);
  }
  const list = lab.targets[0].files.map((f) => ({ path: f.path, mode: `0${(f.mode & 0o7777).toString(8)}` }));
  for (const t of lab.targets) {
    const same = JSON.stringify(t.files.map((f) => [f.path, f.mode])) === JSON.stringify(lab.targets[0].files.map((f) => [f.path, f.mode]));
    if (!same) throw new Error(`bench: ${t.node} has other paths or modes than ${lab.targets[0].node}; the play assumes one list`);
  }
  mkdirSync(join(adir, 'cp'));
  mkdirSync(join(adir, 'tmp'));
  mkdirSync(join(adir, 'home'));
  // the lab's pins, as labgen generated them (labgen itself never runs against these hosts)
  writeFileSync(join(adir, 'known_hosts'), readFileSync(join(lab.dir, '.labgen/known_hosts')));
  writeFileSync(join(adir, 'inventory.ini'), `[pis]\n${group.hosts.map((x) => `${x.name} ansible_host=${x.ip}`).join('\n')}\n`);
  writeFileSync(
    join(adir, 'ansible.cfg'),
    `[defaults]
inventory = ${adir}/inventory.ini
remote_user = root
private_key_file = ${lab.dir}/.labgen/secrets/id_ed25519
forks = ${group.hosts.length}
gathering = explicit
host_key_checking = True
interpreter_python = /usr/bin/python3
retry_files_enabled = False
local_tmp = ${adir}/tmp
nocolor = True

[ssh_connection]
pipelining = True
# Ansible's default ssh_args (-C, ControlMaster, ControlPersist=60s) plus the lab's trust
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${adir}/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
control_path_dir = ${adir}/cp
`,
  );
  // copy makes no parent folders for a single file (the tree form does): the loop form needs them first
  const dirs = [...new Set(lab.targets[0].files.map((f) => dirname(f.path)))].sort();
  const folders = {
    name: 'folders of the lab files',
    'ansible.builtin.file': { path: '{{ item }}', state: 'directory', mode: "{{ '0700' if item.endswith('/secrets') else '0755' }}", owner: 'root', group: 'root' },
    loop: dirs,
  };
  const copy =
    form === 'loop'
      ? {
          name: 'lab files, one copy per file',
          'ansible.builtin.copy': { src: `${files}/{{ inventory_hostname }}{{ item.path }}`, dest: '{{ item.path }}', mode: '{{ item.mode }}', owner: 'root', group: 'root' },
          loop: '{{ lab_files }}',
          notify: 'restart slurmd',
        }
      : {
          name: "lab files, one copy of the host's whole tree",
          'ansible.builtin.copy': { src: `${files}/{{ inventory_hostname }}/`, dest: '/', mode: 'preserve', owner: 'root', group: 'root' },
          notify: 'restart slurmd',
        };
  const play = [
    {
      name: `lab files and one handler (${form})`,
      hosts: 'pis',
      gather_facts: false,
      vars: { lab_files: list },
      tasks: form === 'loop' ? [folders, copy] : [copy],
      handlers: [{ name: 'restart slurmd', 'ansible.builtin.command': 'systemctl restart slurmd' }],
    },
  ];
  writeFileSync(join(adir, 'play.yml'), JSON.stringify(play, null, 2)); // JSON is YAML
  return adir;
}

/** PLAY RECAP: host → { ok, changed, unreachable, failed } */
function recap(out) {
  const m = new Map();
  for (const l of out.split('\n')) {
    const r = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(l);
    if (r) m.set(r[1], { ok: +r[2], changed: +r[3], unreachable: +r[4], failed: +r[5] });
  }
  return m;
}

function checkRecap(what, r, n, wantChanged) {
  mustSucceed(what, r);
  const rc = recap(r.out);
  const bad = [...rc].filter(([, x]) => x.unreachable || x.failed || (wantChanged ? x.changed < 2 : x.changed !== 0));
  if (rc.size !== n || bad.length) throw new Error(`${what}: unexpected PLAY RECAP\n${r.out.slice(-3000)}`);
}

async function ansibleSide(h, n, form) {
  return withHosts(h, n, async (group, lab) => {
    const adir = ansibleFolder(lab, group, form);
    const env = { ...process.env, ANSIBLE_CONFIG: join(adir, 'ansible.cfg'), ANSIBLE_HOME: join(adir, 'home'), ANSIBLE_NOCOLOR: '1' };
    const play = () => timed('ansible-playbook', [join(adir, 'play.yml')], { cwd: adir, env });
    try {
      log(`ansible (${form}): first push${form === 'loop' ? ' (this one takes a while)' : ''}`);
      const first = await play();
      checkRecap(`ansible-playbook ${form} (first)`, first, n, true);
      await checkDelivered(group, lab.targets, `ansible ${form}`);
      const before = await standinLogs(group);
      const noop = await play();
      checkRecap(`ansible-playbook ${form} (no-op)`, noop, n, false);
      if (JSON.stringify(await standinLogs(group)) !== JSON.stringify(before)) throw new Error(`ansible ${form}: no-op run ran a handler`);
      const etc = (await group.hosts[0].exec("stat -c '%a %U:%G' /etc /var/lib/labgen /var/lib/labgen/secrets")).stdout.trim().split('\n');
      return { first, noop, dirs: etc };
    } finally {
      // end the ControlPersist masters this run left (they would linger 60 s)
      for (const sock of existsSync(join(adir, 'cp')) ? readdirSync(join(adir, 'cp')) : [])
        spawnSync('ssh', ['-S', join(adir, 'cp', sock), '-O', 'exit', 'bench'], { stdio: 'ignore' });
    }
  });
}

// ---------------------------------------------------------------- where labgen's time goes

/** From the plain progress lines (`piN: step`, timestamped on arrival): per step, median and max over hosts. */
function profile(run) {
  const byNode = new Map();
  for (const { t, text } of run.lines) {
    const m = /^(pi\d+): (.*)$/.exec(text);
    if (!m) continue;
    if (!byNode.has(m[1])) byNode.set(m[1], []);
    const events = byNode.get(m[1]);
    if (events.at(-1)?.step === 'done') continue; // notes after the host finished
    events.push({ t, step: m[2].startsWith('done: ') ? 'done' : stepName(m[2]) });
  }
  const perStep = new Map();
  const firstLine = Math.min(...[...byNode.values()].map((e) => e[0].t));
  const lastDone = Math.max(...[...byNode.values()].map((e) => e.at(-1).t));
  for (const events of byNode.values()) {
    for (let i = 0; i + 1 < events.length; i++) {
      const d = events[i + 1].t - events[i].t;
      if (!perStep.has(events[i].step)) perStep.set(events[i].step, []);
      perStep.get(events[i].step).push(d);
    }
  }
  const rows = [[`process start → first progress line (node, load, read lab, plan)`, firstLine, firstLine]];
  for (const [step, ds] of perStep) {
    ds.sort((a, b) => a - b);
    rows.push([`  ${step}`, ds[Math.floor(ds.length / 2)], ds.at(-1)]);
  }
  rows.push([`last host done → exit (report, state.json, known_hosts)`, run.s - lastDone, run.s - lastDone]);
  return rows;
}

function stepName(text) {
  if (text === 'pushing') return 'start';
  if (text.startsWith('connecting to')) return 'connect (TCP, SSH handshake, host key, login)';
  if (text === 'reading state') return 'read state (one listing command)';
  if (text.startsWith('uploading')) return 'upload (one install command)';
  if (/^cut-over .*guard set/.test(text)) return 'cut-over: upload keyfile + guard, apply (same address: confirm on the session)';
  if (text.startsWith('cut-over: reaching')) return 'cut-over: reconnect at the new address, confirm';
  return text.replace(/\d+\.\d+\.\d+\.\d+/g, 'IP');
}

// ---------------------------------------------------------------- main

/** The median first push and the median no-op of labgen's rounds (each from its own round). */
function medianRun(runs) {
  const mid = (key) => [...runs].sort((a, b) => a[key].s - b[key].s)[Math.floor(runs.length / 2)][key];
  return { ...runs[0], first: mid('first'), noop: mid('noop') };
}

const fmt = (s) => (s === undefined ? '-' : `${s.toFixed(2)}`);
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(3)}×`);

async function main() {
  prerequisites();
  const cleanups = [];
  const exitClean = () => cleanups.forEach((c) => c());
  process.on('exit', exitClean);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130)); // runs the exit hooks: hosts stopped
  const h = await loadHelpers(cleanups);
  const t0 = performance.now();
  const load0 = loadavg().map((x) => x.toFixed(1)).join(' ');
  const ansibleVersion = FORMS.length ? spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] : '';

  // labgen: RUNS rounds of (N hosts, 1 host), each on fresh hosts, spread around the Ansible runs
  const rounds = { many: [], one: [] };
  const round = async (i) => {
    log(`labgen round ${i + 1}/${RUNS}: ${N} hosts, then 1 host`);
    rounds.many.push(await labgenSide(h, N));
    rounds.one.push(await labgenSide(h, 1));
  };
  await round(0);
  const ans = {};
  for (const form of FORMS) ans[form] = await ansibleSide(h, N, form);
  for (let i = 1; i < RUNS; i++) await round(i);
  const lg = medianRun(rounds.many);
  const lg1 = medianRun(rounds.one);

  const forms = Object.entries(ans);
  const fastFirst = forms.length ? Math.min(...forms.map(([, r]) => r.first.s)) : undefined;
  const fastNoop = forms.length ? Math.min(...forms.map(([, r]) => r.noop.s)) : undefined;
  const fasterForm = forms.find(([, r]) => r.first.s === fastFirst)?.[0];
  const met = (ok) => (ok ? 'met' : 'MISSED');
  const scaleFirst = lg.first.s / lg1.first.s;
  const scaleNoop = lg.noop.s / lg1.noop.s;

  const files = lg.files;
  const bytes = files.reduce((a, f) => a + f.content.length, 0);
  const out = [];
  out.push(`bench/push: ${N} test hosts (netns + real sshd; systemctl is a test-host stand-in) on a ${CORES}-core machine; load average before ${load0}; bench took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  out.push(`per host: ${files.length} files, ${bytes} bytes (${files.map((f) => f.path.replace('/var/lib/labgen', '…')).join(' ')}) + 1 restart handler (slurmd)`);
  out.push(`labgen first push also ran, per host: ${lg.handlers} (labgen's own handlers; Ansible runs only the restart)`);
  if (ansibleVersion) out.push(`ansible: ${ansibleVersion}; facts off, pipelining on, forks=${N}, interpreter pinned, ControlPersist=60s; same key, lab known_hosts, StrictHostKeyChecking=yes`);
  out.push(`ratios: against the faster Ansible form in the same column (first push: ${fasterForm ?? 'n/a'})`);
  out.push('');
  const rows = [['side', 'form', 'first push s', 'no-op s', 'first ratio', 'no-op ratio', 'target']];
  for (const [form, r] of forms)
    rows.push(['ansible', form === 'loop' ? 'copy loop, 1 task × 10 files' : 'copy dir, 1 task for the tree', fmt(r.first.s), fmt(r.noop.s), ratio(r.first.s, fastFirst), ratio(r.noop.s, fastNoop), r.first.s === fastFirst ? 'baseline (faster form)' : '']);
  rows.push([
    'labgen',
    `push, ${N} hosts, --concurrency ${N}${RUNS > 1 ? `, median of ${RUNS}` : ''}`,
    fmt(lg.first.s),
    fmt(lg.noop.s),
    ratio(lg.first.s, fastFirst),
    ratio(lg.noop.s, fastNoop),
    fastFirst === undefined
      ? 'n/a (no Ansible run)'
      : `first ≤ ${TARGET_RATIO}×: ${met(lg.first.s <= TARGET_RATIO * fastFirst)}; no-op ≤ ${TARGET_RATIO}×: ${met(lg.noop.s <= TARGET_RATIO * fastNoop)}`,
  ]);
  rows.push(['labgen', `push, 1 host${RUNS > 1 ? `, median of ${RUNS}` : ''}`, fmt(lg1.first.s), fmt(lg1.noop.s), '', '', `${N} hosts ≤ ${TARGET_SCALING}× 1 host: first ${scaleFirst.toFixed(2)}× ${met(scaleFirst <= TARGET_SCALING)}; no-op ${scaleNoop.toFixed(2)}× ${met(scaleNoop <= TARGET_SCALING)}`]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [i, r] of rows.entries()) {
    out.push(r.map((c, j) => (j === r.length - 1 ? c : j >= 2 && j <= 5 ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join('  '));
    if (i === 0) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  const each = (rs) => rs.map((r) => `${r.first.s.toFixed(2)}/${r.noop.s.toFixed(2)}`).join(', ');
  out.push(`labgen rounds (first/no-op s, each on fresh hosts): ${N} hosts: ${each(rounds.many)}; 1 host: ${each(rounds.one)}`);
  for (const [form, r] of forms) out.push(`ansible ${form}: modes after the run on ${'pi1'}: /etc, /var/lib/labgen, /var/lib/labgen/secrets = ${r.dirs.join(', ')}`);
  out.push('');
  out.push(`CPU during each run (${CORES} cores: wall × ${CORES} core-s available): the pushing program itself (with what it waited for) / everything else busy (mostly the simulated Pis: sshd, shells, setup.sh, Python modules)`);
  const cpuRuns = [...forms.flatMap(([form, r]) => [[`ansible ${form}, first`, r.first], [`ansible ${form}, no-op`, r.noop]]), [`labgen ${N} hosts, first`, lg.first], [`labgen ${N} hosts, no-op`, lg.noop], ['labgen 1 host, first', lg1.first], ['labgen 1 host, no-op', lg1.noop]];
  for (const [label, r] of cpuRuns)
    out.push(`  ${label.padEnd(26)} wall ${r.s.toFixed(2).padStart(7)} s   busy ${r.cpu.machine.toFixed(1).padStart(6)} of ${(r.s * CORES).toFixed(1).padStart(6)} core-s   program ${r.cpu.own.toFixed(1).padStart(6)}   rest ${(r.cpu.machine - r.cpu.own).toFixed(1).padStart(6)}`);
  out.push('');
  out.push("where labgen's time goes (per-host steps from its progress lines, timestamped as they arrived; median / max over hosts):");
  for (const [label, run] of [[`${N} hosts, first push`, lg.first], [`${N} hosts, no-op`, lg.noop], ['1 host, first push', lg1.first], ['1 host, no-op', lg1.noop]]) {
    out.push(`  ${label}: ${run.s.toFixed(2)} s wall`);
    for (const [step, med, max] of profile(run)) out.push(`    ${step.padEnd(66)} ${med.toFixed(3)} / ${max.toFixed(3)} s`);
  }
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(`bench/push failed: ${e.stack ?? e}`);
  process.exitCode = 1;
});
