/**
 * The day-2 commands on existing hosts, end to end: `labgen node add`, `labgen node remove`,
 * `labgen reset`. The hosts are test hosts (network namespaces with a real sshd, each with a
 * private overlay of this machine's root: test/support/test-hosts.ts), reached over real SSH with
 * their pinned keys; provision/reset.sh runs there for real. kubeadm, kubelet's API and kubectl
 * are stand-ins that record their calls (test/up/host-standins.ts; no Kubernetes binary can run
 * here), as in existing.e2e.test.ts. The tests run in order on one lab folder: a control plane
 * and one worker brought up, a second worker added, then removed, the cluster reset and made
 * again, a worker that is down removed with --force.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeAdd, nodeRemove, type NodeRemoveOptions, resetCommand } from '../../generator/cli/node.js';
import { KNOWN_HOSTS, SECRETS_DIR, UP_STATE } from '../../generator/common/layout.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { EXISTING_LAB_ROOT } from '../../generator/plan/vm/lab-root.js';
import { containerdReleases } from '../../generator/plan/support/versions.js';
import { REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { startHosts, type TestHostGroup } from '../support/test-hosts.js';
import { hostFingerprint, hostStandIns, LAPTOP_KUBECTL, standInCalls, standInLog } from './host-standins.js';
import { adminConf } from './standins.js';
import { addLoginUser, regenerate, runUp, shownRun } from './support.js';

const [CP, W1, W2] = ['cp', 'w1', 'w2'];
const USER = 'ops';
const ROOT = EXISTING_LAB_ROOT;
/** the built CLI, and the pseudo-terminal that answers its questions */
const CLI = join(REPO_ROOT, 'dist', 'bin', 'labgen.js');
const PTY = join(REPO_ROOT, 'test', 'support', 'pty-answer.py');
const TIMING = { pollMs: 50, readyTimeoutMs: 60_000, connectTimeoutMs: 20_000 };

interface Run {
  code: number;
  out: string[];
  err: string[];
  error?: LabgenError;
}

/** A day-2 command in-process, without a terminal; a LabgenError is its exit code, as main.ts would exit. */
async function run(fn: (io: { out: (l: string) => void; err: (l: string) => void; tty: boolean }) => Promise<number>): Promise<Run> {
  const r: Run = { code: -1, out: [], err: [] };
  try {
    r.code = await fn({ out: (l) => r.out.push(l), err: (l) => r.err.push(l), tty: false });
  } catch (e) {
    if (!(e instanceof LabgenError)) throw e;
    r.error = e;
    r.code = e.code;
  }
  return r;
}
const shown = (r: Run) => [`exit ${r.code}`, r.error ? `error: ${r.error.message}` : '', ...r.out, ...r.err].join('\n');

describeE2e(
  'labgen node add / node remove / reset on existing hosts over SSH (stand-ins: kubeadm, kubectl, the apt repository, swap, sysctl, containerd --version)',
  { root: true, commands: ['ip', 'sshd', 'ssh', 'unshare', 'nsenter', 'setpriv', 'tar', 'sudo', 'gpg', 'ssh-keygen', 'bash', 'python3'] },
  () => {
    let group: TestHostGroup;
    let bed: string;
    let labDir: string;
    let labFile: string;
    let env: Record<string, string>;
    const host = (name: string) => group.host(name);
    const fp = hostFingerprint;
    const log = standInLog;
    const calls = standInCalls;
    const kubectlLog = () => (existsSync(join(bed, 'kubectl.log')) ? readFileSync(join(bed, 'kubectl.log'), 'utf8') : '');
    const labText = () => readFileSync(labFile, 'utf8');
    const known = () => readFileSync(join(labDir, KNOWN_HOSTS), 'utf8');
    const nodes = (...n: string[]) => (env.LABGEN_TEST_NODES = n.join(' '));
    const remove = (name: string, o: Partial<NodeRemoveOptions> = {}) => run((io) => nodeRemove(name, { lab: labFile, env, timing: TIMING, io, ...o }));
    let original: string;
    /** the built CLI on a pseudo-terminal, `answers` (QUESTION=ANSWER) typed when asked */
    const cli = (args: string[], ...answers: string[]) =>
      spawnSync('python3', [PTY, ...answers, '--', process.execPath, CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });

    beforeAll(async () => {
      bed = mkdtempSync(join(tmpdir(), 'labgen-day2-'));
      const releaseKey = execFileSync('gpg', ['--enarmor'], { input: 'labgen stand-in: the Kubernetes repository key' }).toString();
      const files = hostStandIns({ admin: adminConf('daylab', 'https://api.day.lab:6443'), releaseKey, containerdVersion: containerdReleases('1.37')[0]!, rocky: false });
      group = await startHosts(3, { names: [CP, W1, W2], files: () => files });
      labDir = join(bed, 'lab');
      mkdirSync(labDir);
      labFile = join(labDir, 'lab.yaml');
      // written by hand, comments and all: what node add and node remove must keep
      original = [
        '# my lab: the machines under the desk',
        'version: 1',
        'name: daylab',
        'domain: day.lab',
        `network: { subnet: ${group.subnet}, gateway: ${group.bridgeIp} }`,
        'cluster:',
        '  provider: existing   # hosts we have',
        `  ssh: { user: ${USER} }`,
        `  controlPlane: { name: ${CP}, ip: ${host(CP).ip} }`,
        '  workers:',
        '    hosts:',
        `      - { name: ${W1}, ip: ${host(W1).ip} }   # the old one`,
        '',
      ].join('\n');
      writeFileSync(labFile, original);
      expect((await regenerate(labFile)).code).toBe(0);
      const pub = readFileSync(join(labDir, SECRETS_DIR, 'id_ed25519.pub'), 'utf8').trim();
      for (const h of group.hosts) await addLoginUser(h, USER, pub);
      const bin = join(bed, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'kubectl'), LAPTOP_KUBECTL);
      chmodSync(join(bin, 'kubectl'), 0o755);
      env = { LABGEN_TEST_CA: '', PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, LABGEN_TEST_BED: bed, LABGEN_TEST_NODES: '', HOME: join(bed, 'home'), KUBECONFIG: '' };
      nodes(CP, W1);
      const up = await runUp({ lab: labFile, env, timing: TIMING, fingerprint: [CP, W1].map((n) => `${n}=${fp(host(n))}`) });
      expect(up.code, shownRun(up)).toBe(EXIT.ok);
    }, 300_000);
    afterAll(async () => {
      await group?.stopAll();
      if (bed) rmSync(bed, { recursive: true, force: true });
    });

    it('node add: bad input is refused, naming why (exit 2), and nothing changes', async () => {
      const taken = await run((io) => nodeAdd(W1, { lab: labFile, ip: host(W2).ip, env, io, up: false }));
      expect(taken.code).toBe(EXIT.badInput);
      expect(taken.error?.message).toBe(`${W1} is already a worker of the lab (cluster.workers.hosts[0])`);
      const noIp = await run((io) => nodeAdd(W2, { lab: labFile, env, io, up: false }));
      expect(noIp.error?.message).toContain(`--ip: the address of ${W2} is needed`);
      const clash = await run((io) => nodeAdd(W2, { lab: labFile, ip: host(W1).ip, env, io, up: false }));
      expect(clash.code).toBe(EXIT.badInput);
      expect(clash.error?.message).toContain('would not be a valid lab (nothing was changed)');
      expect(clash.error?.message).toContain(host(W1).ip);
      const notYet = await run((io) => nodeAdd(W2, { lab: labFile, ip: host(W2).ip, fingerprint: [fp(host(W2))], env, io, up: false }));
      expect(notYet.error?.message).toContain('--fingerprint confirms the key when labgen up first reaches the host');
      const short = await run((io) => nodeAdd(W2, { lab: labFile, ip: host(W2).ip, fingerprint: ['SHA256:short'], env, io }));
      expect(short.code).toBe(EXIT.badInput);
      expect(short.error?.message).toContain(`--fingerprint ${W2}=SHA256:short: not a SHA256 fingerprint`);
      expect(labText()).toBe(original);
    });

    it('node add and node remove stop at a file of the lab folder edited by hand (exit 3): nothing written, no host touched', async () => {
      const hostsFile = join(labDir, 'laptop', 'hosts');
      const generated = readFileSync(hostsFile, 'utf8');
      writeFileSync(hostsFile, `${generated}# mine\n`);
      const before = (await log(host(W1))).length;
      const add = await run((io) => nodeAdd(W2, { lab: labFile, ip: host(W2).ip, env, io, up: false }));
      expect(add.code, shown(add)).toBe(EXIT.conflict);
      const gone = await remove(W1, { yes: true });
      expect(gone.code, shown(gone)).toBe(EXIT.conflict);
      expect(gone.error?.message).toContain('changed by hand; nothing was done');
      expect(labText()).toBe(original);
      expect(readFileSync(hostsFile, 'utf8')).toBe(`${generated}# mine\n`);
      expect((await log(host(W1))).length).toBe(before);
      expect(kubectlLog()).not.toContain(`drain ${W1}`);
      writeFileSync(hostsFile, generated);
    });

    it('node add --no-up: lab.yaml and the folder only, and what to do next; removing that host, which labgen up never reached, needs --force', async () => {
      const r = await run((io) => nodeAdd(W2, { lab: labFile, ip: host(W2).ip, env, io, up: false }));
      expect(r.code, shown(r)).toBe(EXIT.ok);
      expect(r.out).toContain(`next: labgen up brings ${W2} into the cluster (its host key confirmed on a terminal, or with --fingerprint ${W2}=SHA256:…)`);
      expect(labText()).toContain(`- { name: ${W2}, ip: ${host(W2).ip} }`);
      expect(await log(host(W2))).toEqual([]);
      const refused = await remove(W2, { yes: true });
      expect(refused.code, shown(refused)).toBe(EXIT.failure);
      expect(refused.err.join('\n')).toContain(`labgen up never reached ${W2} (its key is not pinned)`);
      expect(labText()).toContain(W2);
      const forced = await remove(W2, { yes: true, force: true });
      expect(forced.code, shown(forced)).toBe(EXIT.ok);
      expect(labText()).toBe(original);
      expect(await log(host(W2))).toEqual([]);
    });

    it('node add: the host appended to lab.yaml (every other line as written), the folder regenerated, then up (the real CLI on a terminal: the new key shown and confirmed) joins it alone: no second init, the old worker untouched', async () => {
      const w1Joins = (await calls(host(W1), /^kubeadm join /)).length;
      nodes(CP, W1, W2);
      // the real CLI on a terminal: it shows the new host's key and asks (answered yes once the question is there)
      const r = cli(['node', 'add', W2, '--ip', host(W2).ip, '--lab', labFile], `Does it print ${fp(host(W2))}?=y`);
      expect(r.status, r.stdout + r.stderr).toBe(EXIT.ok);
      expect(r.stdout).toContain(`${W2} (${host(W2).ip}) presents the host key ssh-ed25519 ${fp(host(W2))}`);
      expect(r.stdout).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
      expect(labText()).toBe(original.replace('# the old one\n', `# the old one\n      - { name: ${W2}, ip: ${host(W2).ip} }\n`));
      expect(readFileSync(join(labDir, 'laptop', 'hosts'), 'utf8')).toMatch(new RegExp(`^${host(W2).ip.replace(/\./g, '\\.')}\\s+${W2}\\b`, 'm'));
      expect(known()).toContain(`${W2},${host(W2).ip} ${host(W2).hostKey}`);
      expect((await calls(host(W2), /^kubeadm join /)).map((c) => c.line)).toEqual([`kubeadm join --config ${ROOT}/provision/kubeadm/${W2}.yaml`]);
      expect(await calls(host(CP), /^kubeadm init /)).toHaveLength(1);
      expect(await calls(host(W1), /^kubeadm join /)).toHaveLength(w1Joins);
    }, 300_000);

    it('node remove: without a terminal it needs --yes (exit 2, nothing done); the control plane and a name the lab lacks are refused', async () => {
      const before = (await log(host(W2))).length;
      const drains = kubectlLog().split(`drain ${W2} `).length;
      const ask = await remove(W2);
      expect(ask.code).toBe(EXIT.badInput);
      expect(ask.error?.message).toBe(`removing ${W2} drains its pods to the other nodes and runs kubeadm reset on it; without a terminal to ask on, --yes says so`);
      expect(ask.error?.hint).toBe(`labgen node remove ${W2} --yes`);
      expect((await log(host(W2))).length).toBe(before);
      const no = await remove(W2, { io: { tty: true }, confirm: async () => false } as never);
      expect(no.code).toBe(EXIT.failure);
      expect((await log(host(W2))).length).toBe(before);
      expect((await remove(CP, { yes: true })).error?.message).toBe(`${CP} is the control plane: a cluster cannot go on without it`);
      expect((await remove('nosuch', { yes: true })).error?.message).toBe(`nosuch is not a worker of the lab (its workers: ${W1}, ${W2})`);
      expect(kubectlLog().split(`drain ${W2} `).length).toBe(drains);
    });

    it('node remove: drained and deleted, kubeadm reset on the host with what it leaves, labgen\'s files and pin gone; lab.yaml back as written; the next up never reaches it', async () => {
      // what the CNI leaves on a host that kubeadm reset does not remove
      expect((await host(W2).exec('mkdir -p /etc/cni/net.d && echo {} >/etc/cni/net.d/10-flannel.conflist && echo {} >/etc/cni/net.d/87-podman.conflist')).code).toBe(0);
      const r = await remove(W2, { yes: true });
      expect(r.code, shown(r)).toBe(EXIT.ok);
      const kubectl = kubectlLog();
      expect(kubectl).toContain(`drain ${W2} --ignore-daemonsets --delete-emptydir-data --force --timeout=120s`);
      expect(kubectl).toContain(`delete node ${W2} --ignore-not-found`);
      expect(kubectl.indexOf(`drain ${W2}`)).toBeLessThan(kubectl.indexOf(`delete node ${W2}`));
      expect((await calls(host(W2), /^kubeadm reset/)).map((c) => c.line)).toEqual(['kubeadm reset --force']);
      expect((await host(W2).exec('ls /etc/kubernetes/kubelet.conf')).code).not.toBe(0);
      expect((await host(W2).exec('ls /etc/cni/net.d')).stdout.trim()).toBe('87-podman.conflist');
      expect((await host(W2).exec(`[ -e ${ROOT} ]`)).code).not.toBe(0);
      expect(labText()).toBe(original);
      expect(readFileSync(join(labDir, 'laptop', 'hosts'), 'utf8')).not.toContain(W2);
      expect(known()).not.toContain(host(W2).ip);
      expect(readFileSync(join(labDir, UP_STATE), 'utf8')).not.toContain(W2);
      expect(r.out).toContain(`${W2}: removed from the cluster and from ${labFile}; its pins in .labgen/known_hosts and labgen up's record of it are gone`);

      nodes(CP, W1);
      const sshd = host(W2).log().length;
      const again = await runUp({ lab: labFile, env, timing: TIMING });
      expect(again.code, shownRun(again)).toBe(EXIT.ok);
      expect(again.result!.vms.map((v) => v.vm)).toEqual([CP, W1]);
      expect(host(W2).log().slice(sshd)).not.toContain('Accepted publickey');
    }, 300_000);

    it('reset: asks first (--yes without a terminal); then reset.sh on the worker before the control plane, the cluster\'s kubeconfigs gone here; labgen up makes a new cluster', async () => {
      const ask = await run((io) => resetCommand({ lab: labFile, env, timing: TIMING, io }));
      expect(ask.code).toBe(EXIT.badInput);
      expect(ask.error?.hint).toBe('labgen reset --yes');
      expect(await calls(host(CP), /^kubeadm reset/)).toEqual([]);

      // the real CLI on a terminal: it asks, and a yes resets
      const r = cli(['reset', '--lab', labFile], 'Reset the cluster of daylab?=y');
      expect(r.status, r.stdout + r.stderr).toBe(EXIT.ok);
      const [cpReset] = await calls(host(CP), /^kubeadm reset/);
      const [w1Reset] = await calls(host(W1), /^kubeadm reset/);
      expect(cpReset?.line).toBe('kubeadm reset --force');
      expect(w1Reset!.ns).toBeLessThan(cpReset!.ns);
      // control-plane.sh gave the login user the admin kubeconfig: reset.sh takes it back
      expect((await host(CP).exec(`ls /home/${USER}/.kube/config`)).code).not.toBe(0);
      expect(existsSync(join(labDir, SECRETS_DIR, 'admin.kubeconfig'))).toBe(false);
      expect(r.stdout).toContain('reset: the cluster is gone, the hosts are kept; labgen up makes a new one');

      // a second reset finds no cluster: nothing to change
      const twice = await run((io) => resetCommand({ lab: labFile, env, timing: TIMING, io, yes: true }));
      expect(twice.code, shown(twice)).toBe(EXIT.ok);
      expect(twice.out.join('\n')).toContain('in no cluster: nothing to reset');
      expect(await calls(host(CP), /^kubeadm reset/)).toHaveLength(1);

      const up = await runUp({ lab: labFile, env, timing: TIMING });
      expect(up.code, shownRun(up)).toBe(EXIT.ok);
      expect(await calls(host(CP), /^kubeadm init /)).toHaveLength(2);
      expect(await calls(host(W1), /^kubeadm join /)).toHaveLength(2);
      expect(existsSync(join(labDir, SECRETS_DIR, 'admin.kubeconfig'))).toBe(true);
    }, 300_000);

    it('node remove of a worker that is down: its drain fails, exit 1 naming it, lab.yaml unchanged; with --force the node is deleted all the same, its pins go, and it leaves the lab', async () => {
      await host(W1).stop();
      env.LABGEN_TEST_DRAIN_FAIL = W1;
      // nothing answers at its address: a short connect timeout is only the wait before that is said
      const down = { ...TIMING, connectTimeoutMs: 5_000 };
      const r = await remove(W1, { yes: true, timing: down });
      expect(r.code, shown(r)).toBe(EXIT.failure);
      expect(r.err.join('\n')).toContain(`${W1}: failed at drain: \`kubectl drain ${W1}\` exited 1`);
      expect(r.err).toContain(`labgen: ${W1} was not removed; lab.yaml still lists it`);
      expect(kubectlLog()).not.toContain(`delete node ${W1}`);
      expect(labText()).toBe(original);
      const forced = await remove(W1, { yes: true, force: true, timing: down });
      expect(forced.code, shown(forced)).toBe(EXIT.ok);
      const notes = forced.out.join('\n');
      expect(notes).toContain('drain failed (`kubectl drain w1` exited 1); gone past it (--force)');
      expect(notes).toMatch(/connect failed \(cannot connect to w1 at [\d.]+: .*\); gone past it \(--force\)/);
      expect(kubectlLog()).toContain(`delete node ${W1} --ignore-not-found`);
      expect(known()).not.toMatch(new RegExp(`(^|,)(${W1}|${host(W1).ip.replace(/\./g, '\\.')})[, ]`, 'm'));
      expect(labText()).not.toContain(W1);
      expect(labText()).toContain('# my lab: the machines under the desk');
      delete env.LABGEN_TEST_DRAIN_FAIL;
    }, 300_000);
  },
);
