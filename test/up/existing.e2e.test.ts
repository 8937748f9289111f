/**
 * `labgen up` with cluster.provider existing, end to end: the existing hosts are test hosts
 * (test/support/test-hosts.ts: network namespaces with a real sshd, each with a private overlay
 * of this machine's root), reached over real SSH with their host keys checked; the lab folder's
 * provisioning scripts are delivered and run there for real. What cannot run there, or must not
 * (kubeadm, kubelet's API, the package repositories, swap, sysctls, SELinux, firewalld: this
 * machine's kernel is theirs), is a stand-in that records its calls (test/up/host-standins.ts),
 * and so is kubectl on this machine (no API server answers it). The control plane says it is
 * Rocky Linux 9 (its /etc/os-release, in its own root): the RHEL family's branch; the workers
 * are Debian, this machine's own root. The tests run in order on one lab folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KnownHostsFile } from '../../drivers/base/known-hosts.js';
import { PlainProgress } from '../../drivers/base/progress.js';
import { upHosts } from '../../drivers/up/hosts.js';
import { openUpFolder, upFiles } from '../../drivers/up/targets.js';
import { KNOWN_HOSTS, SECRETS_DIR } from '../../generator/common/layout.js';
import { EXIT } from '../../generator/errors.js';
import { firewalldPorts } from '../../generator/plan/support/cluster-ports.js';
import { EXISTING_LAB_ROOT } from '../../generator/plan/vm/lab-root.js';
import { containerdReleases } from '../../generator/plan/support/versions.js';
import { describeE2e } from '../support/prereq.js';
import { startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';
import { hostFingerprint, hostStandIns, LAPTOP_KUBECTL, standInCalls, standInLog } from './host-standins.js';
import { adminConf } from './standins.js';
import { addLoginUser, regenerate, runUp, shownRun, writeLab } from './support.js';

const CP = 'cp';
const W1 = 'w1';
const W2 = 'w2';
const JUMP = 'jump';
const USER = 'ops';
const CA = '-----BEGIN CERTIFICATE-----\nc3RhbmQtaW4gbGFiIENB\n-----END CERTIFICATE-----\n';
const ROOT = EXISTING_LAB_ROOT;

describeE2e(
  'labgen up on existing hosts over SSH (stand-ins: kubeadm, kubectl, the apt/rpm repositories, dnf, rpm, swap, sysctl, SELinux, firewalld, containerd --version)',
  { root: true, commands: ['ip', 'sshd', 'ssh', 'unshare', 'nsenter', 'setpriv', 'tar', 'sudo', 'gpg', 'ssh-keygen', 'bash', 'python3'] },
  () => {
    let group: TestHostGroup;
    let bed: string;
    let labDir: string;
    let labFile: string;
    let env: Record<string, string>;
    const host = (name: string) => group.host(name);
    const fp = hostFingerprint;
    const fingerprints = () => [CP, W1, W2].map((n) => `${n}=${fp(host(n))}`);
    const up = (extra: { fingerprint?: string[] } = {}) =>
      runUp({ lab: labFile, env, timing: { pollMs: 50, readyTimeoutMs: 60_000, connectTimeoutMs: 20_000 }, ...extra });
    const log = standInLog;
    const calls = standInCalls;

    /** the lab: the three hosts, reached directly or through the jump host */
    const labDoc = (bastion?: string, services: object = {}) => ({
      version: 1,
      name: 'stacklab',
      domain: 'stack.lab',
      network: { subnet: group.subnet, gateway: group.bridgeIp },
      cluster: {
        provider: 'existing',
        ssh: { user: USER, ...(bastion ? { bastion: { address: bastion } } : {}) },
        controlPlane: { name: CP, ip: host(CP).ip },
        workers: { hosts: [{ name: W1, ip: host(W1).ip }, { name: W2, ip: host(W2).ip }] },
      },
      services,
    });

    beforeAll(async () => {
      bed = mkdtempSync(join(tmpdir(), 'labgen-existing-'));
      const releaseKey = execFileSync('gpg', ['--enarmor'], { input: 'labgen stand-in: the Kubernetes repository key' }).toString();
      const standIns = (rocky: boolean) =>
        hostStandIns({ admin: adminConf('stacklab', 'https://api.stack.lab:6443'), releaseKey, containerdVersion: containerdReleases('1.37')[0]!, rocky });
      group = await startHosts(4, { names: [CP, W1, W2, JUMP], files: (h) => (h.name === JUMP ? {} : standIns(h.name === CP)) });
      labDir = join(bed, 'lab');
      mkdirSync(labDir);
      labFile = join(labDir, 'lab.yaml');
      writeLab(labFile, labDoc());
      expect((await regenerate(labFile)).code).toBe(0);
      // the user labgen logs in as: the lab key authorized, passwordless sudo (as a cloud image's user)
      const pub = readFileSync(join(labDir, SECRETS_DIR, 'id_ed25519.pub'), 'utf8').trim();
      for (const h of group.hosts) await addLoginUser(h, USER, pub);
      const bin = join(bed, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'kubectl'), LAPTOP_KUBECTL);
      chmodSync(join(bin, 'kubectl'), 0o755);
      env = { LABGEN_TEST_CA: CA, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, LABGEN_TEST_BED: bed, LABGEN_TEST_NODES: `${CP} ${W1} ${W2}`, HOME: join(bed, 'home'), KUBECONFIG: '' };
    }, 120_000);
    afterAll(async () => {
      await group?.stopAll();
      if (bed) rmSync(bed, { recursive: true, force: true });
    });

    it('the control plane reads Rocky Linux 9 from its own /etc/os-release; the workers, this machine\'s Debian', async () => {
      expect((await host(CP).exec('. /etc/os-release && echo "$ID $ID_LIKE"')).stdout.trim()).toBe('rocky rhel centos fedora');
      expect((await host(W1).exec('. /etc/os-release && echo "$ID"')).stdout.trim()).toBe('debian');
      expect(readFileSync('/etc/os-release', 'utf8')).not.toContain('Rocky');
    });

    it('a --fingerprint that is not one, or names no host of the lab, is bad input (exit 2), before anything connects', async () => {
      const bad = await up({ fingerprint: [`${CP}=SHA256:short`] });
      expect(bad.code).toBe(EXIT.badInput);
      expect(bad.error?.message).toContain(`--fingerprint ${CP}=SHA256:short: not a SHA256 fingerprint`);
      const who = await up({ fingerprint: [`nosuch=${fp(host(CP))}`] });
      expect(who.code).toBe(EXIT.badInput);
      expect(who.error?.message).toContain("nosuch is not one of the lab's hosts (cp, w1, w2)");
      expect(existsSync(join(labDir, KNOWN_HOSTS)) ? readFileSync(join(labDir, KNOWN_HOSTS), 'utf8') : '').toBe('');
    });

    it('on a terminal, each key seen for the first time is shown with its host and asked about; a no refuses the host and pins nothing', async () => {
      const p = openUpFolder(labFile);
      const asked: string[] = [];
      const r = await upHosts({
        labDir,
        lab: p.lab,
        now: upFiles(p),
        privateKey: p.secrets.secrets.sshKey.private,
        knownHosts: new KnownHostsFile(join(labDir, KNOWN_HOSTS)),
        fingerprints: new Map(),
        confirmKey: async (node, address, f) => {
          asked.push(`${node} ${address} ${f}`);
          return false;
        },
        env,
        timing: { pollMs: 50, readyTimeoutMs: 60_000, connectTimeoutMs: 20_000 },
        progress: () => new PlainProgress(() => undefined),
      });
      expect(asked).toEqual([CP, W1, W2].map((n) => `${n} ${host(n).ip} ${fp(host(n))}`));
      expect(r.ok).toBe(false);
      for (const v of r.vms) expect(v.failure?.message, v.vm).toContain(`presents the host key ssh-ed25519 ${fp(host(v.vm))}: not confirmed; refused: nothing was sent to it`);
      expect(existsSync(join(labDir, KNOWN_HOSTS)) ? readFileSync(join(labDir, KNOWN_HOSTS), 'utf8') : '').toBe('');
    }, 120_000);

    it('without a terminal or --fingerprint, a host key seen for the first time is refused and named; nothing is sent to any host', async () => {
      const r = await up();
      expect(r.code, shownRun(r)).toBe(EXIT.failure);
      const err = r.err.join('\n');
      for (const n of [CP, W1, W2]) expect(err).toContain(`${n}: failed at host key: ${n} (${host(n).ip}) presents the host key ssh-ed25519 ${fp(host(n))}`);
      expect(err).toContain(`--fingerprint ${CP}=${fp(host(CP))}`);
      for (const h of [CP, W1, W2].map(host)) expect((await h.exec(`[ -e ${ROOT} ]`)).code, h.name).not.toBe(0);
      expect(existsSync(join(labDir, KNOWN_HOSTS)) ? readFileSync(join(labDir, KNOWN_HOSTS), 'utf8') : '').not.toContain(host(CP).ip);
    }, 120_000);

    it('first up: scripts delivered and run over SSH, kubeadm init on the control plane before any join, each worker joined once with the token that has a TTL, the kubeconfig fetched', async () => {
      const r = await up({ fingerprint: fingerprints() });
      expect(r.code, shownRun(r)).toBe(EXIT.ok);
      // per-host progress (plain lines without a terminal): each host's connection and scripts, as they run
      for (const n of [CP, W1, W2]) {
        expect(r.out, n).toContain(`${n}: connecting to ${host(n).ip}`);
        expect(r.out.some((l) => l.startsWith(`${n}: common.sh: common (${n}, ${host(n).ip}): changed: `)), n).toBe(true);
      }
      expect(r.out.some((l) => l.startsWith(`${CP}: control-plane.sh: control-plane (${CP}): changed: kubeadm init`))).toBe(true);
      expect(r.out.some((l) => l.startsWith(`${W1}: worker.sh: worker (${W1}): changed: kubeadm join`))).toBe(true);
      // each key confirmed by --fingerprint is pinned under the host's name and address
      const known = readFileSync(join(labDir, KNOWN_HOSTS), 'utf8');
      for (const h of [CP, W1, W2].map(host)) expect(known).toContain(`${h.name},${h.ip} ${h.hostKey}`);
      // the admin kubeconfig: what kubeadm init left on the control plane, 0600 here
      expect(readFileSync(join(labDir, SECRETS_DIR, 'admin.kubeconfig'), 'utf8')).toContain('server: https://api.stack.lab:6443');

      const init = await calls(host(CP), /^kubeadm init /);
      expect(init.map((c) => c.line)).toEqual([`kubeadm init --config ${ROOT}/provision/kubeadm/${CP}.yaml`]);
      const create = await calls(host(CP), /^kubeadm token create /);
      expect(create).toHaveLength(1);
      const token = create[0]!.line.split(' ')[3]!;
      expect(create[0]!.line).toMatch(/ --ttl 24h /);
      expect(token).toBe(readFileSync(join(labDir, SECRETS_DIR, 'kubeadm-token'), 'utf8').trim());
      for (const w of [W1, W2]) {
        const joins = await calls(host(w), /^kubeadm join /);
        expect(joins.map((c) => c.line), w).toEqual([`kubeadm join --config ${ROOT}/provision/kubeadm/${w}.yaml`]);
        // after the control plane's init and its token (the hosts share this machine's clock)
        expect(joins[0]!.ns > init[0]!.ns && joins[0]!.ns > create[0]!.ns, w).toBe(true);
        const joined = await calls(host(w), /^joined /);
        expect(joined.map((c) => c.line)).toEqual([`joined config=${ROOT}/provision/kubeadm/${w}.yaml discovery=${ROOT}/.labgen/secrets/join.kubeconfig token=${token}`]);
      }
      // the cluster: its nodes waited for with the admin kubeconfig fetched from the control plane
      expect(readFileSync(join(bed, 'kubectl.log'), 'utf8')).toContain(`kubectl --kubeconfig=${join(labDir, SECRETS_DIR, 'admin.kubeconfig')} get nodes -o json`);
    }, 300_000);

    it('each host got only what it needs: its own kubeadm config; the token on the control plane, the join file on the workers; never the lab key or the rest of the secrets', async () => {
      const files = async (h: TestHost) => (await h.exec(`cd ${ROOT} && find . -type f | sort`)).stdout.split('\n').filter(Boolean);
      const cp = await files(host(CP));
      expect(cp).toContain(`./provision/kubeadm/${CP}.yaml`);
      expect(cp.filter((f) => f.startsWith('./.labgen/'))).toEqual(['./.labgen/secrets/admin.kubeconfig', './.labgen/secrets/join.kubeconfig', './.labgen/secrets/kubeadm-token']);
      expect((await host(CP).exec(`stat -c %a ${ROOT}/.labgen/secrets/kubeadm-token`)).stdout.trim()).toBe('600');
      for (const w of [W1, W2]) {
        const f = await files(host(w));
        expect(f.filter((p) => p.startsWith('./provision/kubeadm/'))).toEqual([`./provision/kubeadm/${w}.yaml`]);
        expect(f.filter((p) => p.startsWith('./.labgen/'))).toEqual(['./.labgen/secrets/join.kubeconfig']);
      }
      for (const h of group.hosts) expect((await h.exec(`grep -rl "PRIVATE KEY" ${ROOT} || true`)).stdout, h.name).toBe('');
    });

    it('Rocky Linux 9 (the RHEL family): dnf with the Kubernetes rpm repository, SELinux permissive with the reason, firewalld opening the control plane\'s ports; no apt-get', async () => {
      const cp = host(CP);
      const dnf = (await calls(cp, /^dnf /)).map((c) => c.line);
      expect(dnf).toContain('dnf install -y -q --disableexcludes=kubernetes kubelet kubeadm kubectl');
      expect(dnf.some((l) => / install .*nfs-utils/.test(l))).toBe(true);
      expect(await calls(cp, /^apt-get /)).toEqual([]);
      const repo = await cp.readFile('/etc/yum.repos.d/kubernetes.repo');
      expect(repo).toContain('baseurl=https://pkgs.k8s.io/core:/stable:/v1.37/rpm/');
      expect(repo).toContain('gpgkey=https://pkgs.k8s.io/core:/stable:/v1.37/rpm/repodata/repomd.xml.key');
      expect(repo).toContain('exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni');
      expect((await calls(cp, /^setenforce /)).map((c) => c.line)).toEqual(['setenforce 0']);
      expect(await cp.readFile('/etc/selinux/config')).toContain('\nSELINUX=permissive\n');
      const ports = (await calls(cp, /^firewall-cmd --permanent --add-port/)).flatMap((c) => c.line.split(' ').filter((a) => a.startsWith('--add-port=')).map((a) => a.slice(11)));
      expect(ports).toEqual(firewalldPorts({ cluster: { cni: 'flannel' } } as never, 'control-plane'));
      for (const p of ['6443/tcp', '10250/tcp', '2379-2380/tcp', '8472/udp']) expect(ports).toContain(p);
      expect((await calls(cp, /^firewall-cmd --reload/)).length).toBe(1);
      // no firewalld on the Debian workers (no firewall-cmd there): nothing asked of it
      expect(await calls(host(W1), /^firewall-cmd /)).toEqual([]);
    });

    it('Debian: the Kubernetes apt repository, swap turned off, the packages held; this machine\'s own swap, sysctls and apt sources untouched', async () => {
      const w = host(W1);
      expect(await w.readFile('/etc/apt/sources.list.d/kubernetes.list')).toContain('https://pkgs.k8s.io/core:/stable:/v1.37/deb/ /');
      const apt = (await calls(w, /^apt-(get|mark) /)).map((c) => c.line);
      expect(apt).toContain('apt-get install -y -q --allow-downgrades kubelet=1.37.* kubeadm=1.37.* kubectl=1.37.*');
      expect(apt).toContain('apt-mark hold kubelet kubeadm kubectl');
      expect((await calls(w, /^swapoff /)).map((c) => c.line)).toEqual(['swapoff -a']);
      expect(existsSync('/etc/apt/sources.list.d/kubernetes.list')).toBe(false);
      expect(existsSync(ROOT)).toBe(false);
    });

    it('a second up changes nothing: every script finds the host as it should be', async () => {
      const before = new Map<string, number>();
      for (const h of group.hosts) before.set(h.name, (await log(h)).length);
      const r = await up();
      expect(r.code, shownRun(r)).toBe(EXIT.ok);
      expect(r.result!.vms.map((v) => [v.vm, v.did])).toEqual([CP, W1, W2].map((n) => [n, []]));
      expect(r.out.join('\n')).toContain('up to date');
      const changing = /^(kubeadm (init|join|token create)|apt-get install|dnf install|setenforce|swapoff|firewall-cmd --permanent --add-port|kubectl apply)/;
      for (const h of group.hosts) expect((await log(h)).slice(before.get(h.name)).filter((c) => changing.test(c.line)), h.name).toEqual([]);
    }, 300_000);

    it('through a bastion (cluster.ssh.bastion): its key confirmed and pinned like the hosts\', every host reached from it; the real ssh reaches them with laptop/ssh_config', async () => {
      const jump = host(JUMP);
      writeLab(labFile, labDoc(jump.ip));
      expect((await regenerate(labFile)).code).toBe(0);
      const before = new Map(group.hosts.map((h) => [h.name, h.log().length]));
      const refused = await up();
      expect(refused.code, shownRun(refused)).toBe(EXIT.failure);
      expect(refused.err.join('\n')).toContain(`lab-bastion=${fp(jump)}`);
      const r = await up({ fingerprint: [`lab-bastion=${fp(jump)}`] });
      expect(r.code, shownRun(r)).toBe(EXIT.ok);
      expect(readFileSync(join(labDir, KNOWN_HOSTS), 'utf8')).toContain(`lab-bastion,${jump.ip} ${jump.hostKey}`);
      // each host's sshd let the lab user in from the jump host's address, not from this machine's
      for (const n of [CP, W1, W2]) {
        const sshd = host(n).log().slice(before.get(n));
        expect(sshd, n).toContain(`Accepted publickey for ${USER} from ${jump.ip} `);
        expect(sshd, n).not.toContain(`Accepted publickey for ${USER} from ${group.bridgeIp} `);
      }
      expect(jump.log().slice(before.get(JUMP))).toContain(`Accepted publickey for ${USER} from ${group.bridgeIp} `);
      // the real OpenSSH client, with the generated laptop/ssh_config: ProxyJump and the pins labgen up made
      const ssh = spawnSync('ssh', ['-F', 'laptop/ssh_config', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', CP, 'hostname'], { cwd: labDir, encoding: 'utf8', timeout: 60_000 });
      expect(ssh.stdout.trim(), ssh.stderr).toBe(CP);
    }, 300_000);

    it('with the lab registry, through the bastion: kubectl here reaches the API through a tunnel via the bastion (its certificate checked for api.<domain>); once k8s/apply.sh saved the lab CA, every host gets it and common.sh makes containerd and the system trust it', async () => {
      // what answers on the control plane's :6443 (no API server runs there): one line, to each connection
      const api = await host(CP).exec(
        `setsid python3 -c 'import socket\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("${host(CP).ip}", 6443)); s.listen()\nwhile True:\n  c, _ = s.accept(); c.sendall(b"labgen test: the control plane on 6443\\n"); c.close()' </dev/null >/dev/null 2>&1 &`,
      );
      expect(api.code, api.stderr).toBe(0);
      const base = group.subnet.replace(/\.0\/24$/, '');
      const services = { metallb: { addresses: [`${base}.100-${base}.119`] }, certManager: {}, registry: { ip: `${base}.101` } };
      writeLab(labFile, labDoc(host(JUMP).ip, services));
      expect((await regenerate(labFile)).code).toBe(0);
      const r = await up();
      expect(r.code, shownRun(r)).toBe(EXIT.ok);
      expect(readFileSync(join(labDir, '.labgen/lab-ca.crt'), 'utf8')).toBe(CA);
      const kubectl = readFileSync(join(bed, 'kubectl.log'), 'utf8');
      expect(kubectl).toMatch(/^server=https:\/\/127\.0\.0\.1:\d+ tls-server-name=api\.stack\.lab$/m);
      expect(kubectl).toContain('the API end said: labgen test: the control plane on 6443');
      // the tunnel's kubeconfig is gone with the run; the admin kubeconfig names the API as kubeadm wrote it
      expect(readFileSync(join(labDir, SECRETS_DIR, 'admin.kubeconfig'), 'utf8')).toContain('server: https://api.stack.lab:6443');
      expect(r.result!.cluster.did).toEqual(expect.arrayContaining([`${CP}: the lab CA`, `${W1}: the lab CA`, `${W2}: the lab CA`]));
      const registry = `registry.stack.lab`;
      for (const n of [CP, W1, W2]) {
        expect(await host(n).readFile(`/etc/containerd/certs.d/${registry}/ca.crt`), n).toBe(CA);
        expect(await host(n).readFile(`/etc/containerd/certs.d/${registry}/hosts.toml`), n).toContain(registry);
      }
      // the system's trust store, the way each OS family keeps it
      expect(await host(CP).readFile('/etc/pki/ca-trust/source/anchors/stacklab-lab-ca.crt')).toBe(CA);
      expect((await calls(host(CP), /^update-ca-trust /)).map((c) => c.line)).toEqual(['update-ca-trust extract']);
      expect(await host(W1).readFile('/usr/local/share/ca-certificates/stacklab-lab-ca.crt')).toBe(CA);
      // and then nothing more to do
      const again = await up();
      expect(again.code, shownRun(again)).toBe(EXIT.ok);
      expect(again.result!.vms.map((v) => v.did)).toEqual([[], [], []]);
    }, 300_000);

    it('a host with another key is refused and named, a host that is down is named, the others go on; exit 1', async () => {
      // w1 answers with a key the lab did not pin (another machine on its address); w2 is down
      const other = mkdtempSync(join(bed, 'key-'));
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(other, 'k')]);
      const known = readFileSync(join(labDir, KNOWN_HOSTS), 'utf8');
      const swapped = known.replace(host(W1).hostKey, readFileSync(join(other, 'k.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' '));
      writeFileSync(join(labDir, KNOWN_HOSTS), swapped);
      await host(W2).stop();
      const before = (await log(host(W1))).length;
      const r = await up();
      expect(r.code, shownRun(r)).toBe(EXIT.failure);
      const err = r.err.join('\n');
      expect(err).toMatch(new RegExp(`${W1}: failed at host key: host key of ${W1} \\(${host(W1).ip.replace(/\./g, '\\.')}\\) has CHANGED`));
      expect(err).toContain(`${W2}: failed at connect: cannot connect to ${W2}`);
      const cp = r.result!.vms.find((v) => v.vm === CP)!;
      expect(cp.ok).toBe(true);
      expect(r.result!.cluster.skipped).toBe(true);
      // nothing ran on the refused host
      expect((await log(host(W1))).length).toBe(before);
      writeFileSync(join(labDir, KNOWN_HOSTS), known);
    }, 300_000);
  },
);
