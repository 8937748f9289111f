/**
 * `labgen up` for real (the built CLI, the real vagrant with the libvirt provider) on the VM test
 * bed (test/support/vm-bed/): a tiny lab (1 control plane + 1 worker) planned by the real
 * `labgen generate`, both VMs booted from the labgen test box, every provisioner run, and the test
 * process, standing for the laptop, reaching each VM at its lab IP over a Linux bridge through the
 * generated laptop/ssh_config (its host key pinned by labgen). Nothing leaves the machine: the test
 * shows there is no NAT and no forwarding, and the lab's provisioning fetches nothing (the box has
 * what it installs: Debian sid's containerd 2.1, which fits the bed's pinned Kubernetes 1.35).
 *
 * Stand-ins, where the real thing cannot exist here (the test names say so): Kubernetes' kubeadm,
 * kubelet and kubectl in the box (test/support/vm-bed/box/standin/), and kubectl on the laptop
 * (test/up/standins.ts: there is no API server to ask for the nodes or to apply k8s/ to).
 *
 * One bed for the whole file, the checks in order, each starting where the last left the lab:
 * first up, a second up that does nothing, a VM powered off and brought back alone, a provisioning
 * step that fails on one VM, the up that resumes. About 8 minutes of TCG guests (plus the box's
 * build when its recipe changed): bed.log in the bed's folder has every vagrant and labgen line
 * with its time (LABGEN_VMBED_KEEP=1 keeps the folder).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectV3 } from '../support/containerd-config.js';
import { deepMerge, REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { runIn, must, run } from '../support/vm-bed/proc.js';
import { runLogged, startVmBed, tail, type LoggedResult, type VmBed, vmBedNeeds } from '../support/vm-bed/index.js';
import { VM_BED_KUBERNETES } from '../support/vm-bed/box.js';
import { type StandInBed, standInBed } from '../up/standins.js';

const MIN = 60_000;
const CP = 'k8s';
const WORKER = 'worker-0';
const VMS = [CP, WORKER];
const LAB = 'minilab';
const LABGEN = join(REPO_ROOT, 'dist', 'bin', 'labgen.js');
/** the resolver the lab's DNS forwards to, changed half-way (a documentation address: never reached) */
const OTHER_UPSTREAM = '192.0.2.53';

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describeE2e(
  'labgen up, for real: vagrant with libvirt, 1 control plane + 1 worker on a Linux bridge, no NAT, nothing fetched (stand-in: kubeadm, kubelet and kubectl in the VMs; kubectl on the laptop)',
  { ...vmBedNeeds(), commands: [...vmBedNeeds().commands!, 'kubectl'] },
  () => {
    let bed: VmBed | undefined;
    let laptop: StandInBed | undefined;
    let labDir = '';
    let home = '';
    let first: LoggedResult | undefined;
    const kubeconfig = () => join(home, 'kube', 'config');

    /** `labgen up ARGS` in the lab folder: the bed's vagrant settings, the laptop's kubectl stand-in first on PATH, HOME and KUBECONFIG in the test's folder */
    const up = (args: string[] = [], timeoutMs = 40 * MIN) => labgen(['up', ...args], timeoutMs);
    /** the built CLI in the lab folder, with the bed's vagrant and the laptop's kubectl stand-in */
    const labgen = (args: string[], timeoutMs = 40 * MIN) =>
      runLogged(process.execPath, [LABGEN, ...args], {
        cwd: labDir,
        env: {
          ...bed!.vagrantEnv(),
          PATH: `${join(laptop!.dir, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
          LABGEN_STANDIN_BED: laptop!.dir,
          HOME: join(home, 'home'),
          KUBECONFIG: kubeconfig(),
          NO_COLOR: '1',
        },
        logFile: bed!.log,
        timeoutMs,
      });
    /** a command on a VM the way the laptop gets there: the generated laptop/ssh_config (its lab IP, the key labgen pinned for it) */
    const onVm = (vm: string, cmd: string, input?: string) =>
      runIn(labDir, 'ssh', ['-F', 'laptop/ssh_config', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30', vm, cmd], input === undefined ? {} : { input });
    const onVmOk = async (vm: string, cmd: string) => {
      const r = await onVm(vm, cmd);
      expect(r.code, `${vm}: ${cmd}\n${r.stdout}${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const bootId = async (vm: string) => (await onVmOk(vm, 'cat /proc/sys/kernel/random/boot_id')).trim();
    /** what the stand-ins in the VMs recorded (each call of kubeadm and kubectl) */
    const standinLogs = async (vm: string) => onVmOk(vm, 'sudo cat /var/log/labgen-standin/kubeadm.log /var/log/labgen-standin/kubectl.log 2>/dev/null; true');
    const lab = (file: string) => readFile(join(labDir, file), 'utf8');
    const requireFirst = () => {
      if (!first || first.code !== 0) throw new Error(`the first labgen up failed (exit ${first?.code}); its end:\n${tail(first?.output ?? '')}`);
    };
    /** the report's row of a host: `host  before  did  result` */
    const row = (out: string, host: string) => out.split('\n').find((l) => l.startsWith(`${host} `))?.trim().split(/\s{2,}/);

    beforeAll(async () => {
      bed = await startVmBed();
      labDir = await mkdtemp(join(tmpdir(), 'labgen-vmbed-lab-'));
      home = await mkdtemp(join(tmpdir(), 'labgen-vmbed-home-'));
      await mkdir(join(home, 'home'));
      laptop = standInBed({ admin: '', only: ['kubectl'], home: join(home, 'home') });
      // labs/minimal with the bed's LAN and box, the Kubernetes the box fits, a worker, and calico
      // (its manifests are applied by URL, which the kubectl stand-in notes; flannel's and
      // cilium's are downloaded on the VM, which has no route out)
      const base = yaml.load(readFileSync(join(REPO_ROOT, 'labs/minimal/lab.yaml'), 'utf8'));
      const doc = deepMerge(base, {
        network: bed.labNetwork(),
        cluster: {
          ...bed.labCluster(),
          kubernetesVersion: VM_BED_KUBERNETES,
          cni: 'calico',
          controlPlane: { name: CP, ip: bed.ip(10), cpus: 1, memory: 1024 },
          workers: { count: 1, namePrefix: 'worker-', firstIp: bed.ip(11), cpus: 1, memory: 1024 },
        },
        pis: { nodes: [{ name: 'pi-a', ip: bed.ip(21), roles: ['aptcache', 'compute'] }] },
        services: { metallb: { addresses: [`${bed.ip(100)}-${bed.ip(119)}`] }, coredns: { ip: bed.ip(100) } },
        slurm: { controller: 'pi-a', nodes: ['pi-a'] },
      });
      await writeFile(join(labDir, 'lab.yaml'), yaml.dump(doc));
      const gen = await runIn(labDir, process.execPath, [LABGEN, 'generate'], { env: { ...process.env, NO_COLOR: '1' } });
      if (gen.code !== 0) throw new Error(`labgen generate failed (exit ${gen.code}):\n${gen.stdout}${gen.stderr}`);
      first = await up(['--merge-kubeconfig']);
      process.stderr.write(`labgen up: ${first.seconds}s (exit ${first.code}); log: ${bed.log}\n`);
    }, 60 * MIN);

    afterAll(async () => {
      // vagrant's own teardown first (the last test does it too); the bed removes what is left
      if (bed && labDir) await runLogged('vagrant', ['destroy', '-f'], { cwd: labDir, env: bed.vagrantEnv(), logFile: bed.log, timeoutMs: 5 * MIN }).catch(() => undefined);
      await bed?.stop();
      laptop?.cleanup();
      for (const d of [labDir, home]) if (d) await rm(d, { recursive: true, force: true });
    }, 10 * MIN);

    it('the first labgen up exits 0: both VMs brought up (control plane first), the admin kubeconfig, the nodes Ready, k8s/apply.sh, the endpoints (stand-in: kubectl on the laptop)', async () => {
      requireFirst();
      const out = first!.output;
      expect(row(out, CP)).toEqual([CP, 'not created', `vagrant up ${CP} --provider libvirt`, 'ok']);
      expect(row(out, WORKER)).toEqual([WORKER, 'not created', `vagrant up ${WORKER} --provider libvirt`, 'ok']);
      // the admin kubeconfig written by up (control-plane.sh's copy is in the control plane's own share)
      expect(row(out, 'cluster')).toEqual(['cluster', '-', `.labgen/secrets/admin.kubeconfig (0600); nodes Ready: ${CP}, ${WORKER}; k8s/apply.sh`, 'ok']);
      expect(out).toContain('up: 2 VM(s) running, the cluster Ready');
      expect(out).toContain(`  VMs             ${CP} ${bed!.ip(10)}, ${WORKER} ${bed!.ip(11)}`);
      // the laptop's kubectl: the nodes asked with the admin kubeconfig (0600), then k8s/ applied
      const admin = join(labDir, '.labgen/secrets/admin.kubeconfig');
      const kubectl = laptop!.kubectlCalls();
      expect(kubectl).toContain(`kubectl --kubeconfig=${admin} get nodes -o json KUBECONFIG=${admin} mode=600`);
      expect(kubectl).toContain(`kubectl apply --server-side --force-conflicts -k k8s KUBECONFIG=${admin} mode=600`);
    });

    it("the laptop reaches each VM at its lab IP over the Linux bridge (libvirt type 'bridge', not macvtap) with the generated laptop/ssh_config: common.sh installed the host key labgen pinned", async () => {
      requireFirst();
      for (const vm of VMS) {
        const ip = bed!.ip(vm === CP ? 10 : 11);
        expect(await must('ip', ['route', 'get', ip])).toMatch(new RegExp(`dev ${bed!.bridge} src ${escaped(bed!.gateway)}`));
        // StrictHostKeyChecking yes against .labgen/known_hosts: only the pinned key gets in
        expect((await onVmOk(vm, 'hostname')).trim()).toBe(vm);
        const pub = (await lab(`.labgen/secrets/hostkeys/${vm}/ssh_host_ed25519_key.pub`)).trim().split(/\s+/).slice(0, 2).join(' ');
        expect((await onVmOk(vm, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim()).toContain(pub);
        const ifaces = await must('virsh', ['-q', '-c', 'qemu:///system', 'domiflist', `${bed!.domainPrefix}${vm}`]);
        expect(ifaces).toMatch(new RegExp(`^\\s*\\S+\\s+bridge\\s+${bed!.bridge}\\s`, 'm'));
        expect(ifaces).not.toMatch(/\sdirect\s/);
      }
    });

    it('no NAT and no forwarding out: the management network has no <forward> and no DNS, nothing is masqueraded, the management bridge is fenced, the lab bridge has no uplink, and the VMs have no default route', async () => {
      requireFirst();
      const net = await must('virsh', ['-q', '-c', 'qemu:///system', 'net-dumpxml', bed!.management.network]);
      expect(net).not.toContain('<forward');
      expect(net).toContain("<dns enable='no'/>");
      expect((await must('virsh', ['-q', '-c', 'qemu:///system', 'net-list', '--all', '--name'])).split('\n')).not.toContain('vagrant-libvirt');

      const nat = (await must('iptables-save', ['-t', 'nat'])).split('\n').filter((l) => l.startsWith('-A '));
      const subnets = [bed!.subnet, bed!.management.subnet];
      expect(nat.filter((l) => subnets.some((s) => l.includes(s)))).toEqual([]);
      expect(nat.filter((l) => l.includes('MASQUERADE') && (l.includes(bed!.bridge) || l.includes(bed!.management.bridge)))).toEqual([]);
      // libvirt writes its NAT rules in LIBVIRT_PRT: none for any network
      expect(nat.filter((l) => l.startsWith('-A LIBVIRT_PRT'))).toEqual([]);

      const filter = (await must('iptables-save', ['-t', 'filter'])).split('\n');
      const mb = bed!.management.bridge;
      expect(filter).toContain(`-A LIBVIRT_FWO -i ${mb} -j REJECT --reject-with icmp-port-unreachable`);
      expect(filter).toContain(`-A LIBVIRT_FWI -o ${mb} -j REJECT --reject-with icmp-port-unreachable`);
      // the one ACCEPT of forwarded traffic: within the management bridge itself
      expect(filter.filter((l) => l.includes(mb) && /-j ACCEPT$/.test(l) && /^-A LIBVIRT_FW/.test(l))).toEqual([`-A LIBVIRT_FWX -i ${mb} -o ${mb} -j ACCEPT`]);

      // on the lab bridge: the VMs' taps only
      const ports = (await must('ip', ['-o', 'link', 'show', 'master', bed!.bridge])).trim().split('\n');
      expect(ports).toHaveLength(2);

      const mgmtPrefix = bed!.management.subnet.replace(/\.0\/24$/, '.');
      for (const vm of VMS) {
        // Vagrant's adapter is on the bed's network (LABGEN_LIBVIRT_MANAGEMENT_*), not vagrant-libvirt's NAT one
        expect(await onVmOk(vm, 'ip -4 -o addr show dev eth0')).toContain(` inet ${mgmtPrefix}`);
        expect(await onVmOk(vm, 'ip -4 route')).not.toMatch(/^default/m);
        const out = await onVm(vm, 'ip route get 198.51.100.1');
        expect(out.code, `${vm} has a route off the machine: ${out.stdout}`).not.toBe(0);
        expect(out.stderr).toContain('Network is unreachable');
      }
    });

    it("common.sh set each VM up, offline: swap off, br_netfilter and overlay loaded, the sysctls, /etc/hosts' lab block, the lab DNS as the resolver's, containerd 2.1 running the generated config (containerd config dump), the pinned packages held and nothing fetched (stand-in: kubelet)", async () => {
      requireFirst();
      const config = await lab('provision/files/etc/containerd/config-v3.toml');
      const hostsBlock = await lab('provision/files/etc/hosts.lab');
      const resolv = await lab('provision/files/etc/resolv.conf');
      for (const vm of VMS) {
        const out = await onVmOk(
          vm,
          'sudo sha256sum /etc/containerd/config.toml; systemctl is-active containerd kubelet; systemctl is-enabled containerd kubelet; ' +
            'echo swap=$(swapon --show --noheadings | wc -l); lsmod | awk \'$1=="br_netfilter"||$1=="overlay"{print $1}\' | sort; ' +
            'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables; ' +
            'apt-mark showhold | sort | tr "\\n" " "; echo',
        );
        expect(out.split('\n'), vm).toEqual([
          `${sha(config)}  /etc/containerd/config.toml`,
          'active',
          'active',
          'enabled',
          'enabled',
          'swap=0',
          'br_netfilter',
          'overlay',
          '1',
          '1',
          '1',
          'kubeadm kubectl kubelet ',
          '',
        ]);
        expect(await onVmOk(vm, 'cat /etc/hosts')).toContain(hostsBlock);
        expect(await onVmOk(vm, 'cat /etc/resolv.conf')).toBe(resolv);
        // the daemon runs what was placed: started after the config was written, and reads it as labgen means
        const times = (await onVmOk(vm, 'stat -c %Y /etc/containerd/config.toml; date -d "$(systemctl show -p ActiveEnterTimestamp --value containerd)" +%s')).trim().split('\n').map(Number);
        expect(times[1], `${vm}: containerd started before its config was written`).toBeGreaterThanOrEqual(times[0]!);
        expect(await onVmOk(vm, 'containerd --version')).toMatch(/\s2\.1\.\d+/);
        expectV3(await onVmOk(vm, 'sudo containerd config dump'), VM_BED_KUBERNETES);
        // offline: no apt list was fetched, the Kubernetes repository's key was never needed, Docker's source never written
        expect(await onVmOk(vm, 'ls /var/lib/apt/lists | grep -v -e "^lock$" -e "^partial$" | wc -l')).toBe('0\n');
        expect(await onVmOk(vm, 'ls -A /etc/apt/keyrings')).toBe('');
        expect((await onVmOk(vm, 'ls /etc/apt/sources.list.d')).split('\n')).not.toContain('docker.sources');
        expect(await onVmOk(vm, 'cat /etc/apt/sources.list.d/kubernetes.list')).toBe(await lab('provision/files/etc/apt/sources.list.d/kubernetes.list'));
      }
    });

    it('control-plane.sh and worker.sh drove kubeadm as a cluster needs: init with the generated config, Calico by its manifests, the bootstrap token made with a TTL of 24 h, the worker joined with it (stand-in: kubeadm, kubelet, kubectl)', async () => {
      requireFirst();
      const token = (await lab('.labgen/secrets/kubeadm-token')).trim();
      const cpLog = await onVmOk(CP, 'cat /var/log/labgen-standin/kubeadm.log');
      const cpConfig = await lab(`provision/kubeadm/${CP}.yaml`);
      expect(cpLog).toContain(`kubeadm init --config /vagrant/provision/kubeadm/${CP}.yaml\n  --- /vagrant/provision/kubeadm/${CP}.yaml\n${cpConfig.trimEnd().split('\n').map((l) => `  | ${l}`).join('\n')}\n`);
      // the token made anew: deleted first (there was none: its failure is ignored), then created with its TTL
      const id = token.split('.')[0];
      expect(cpLog).toContain(`kubeadm token delete ${id}\n  -> failed: failed to delete bootstrap token "${id}": secrets "bootstrap-token-${id}" not found\n`);
      expect(cpLog).toContain(`kubeadm token create ${token} --ttl 24h --description labgen:\\ workers\\ join\\ with\\ it\n`);
      expect(cpLog.split('\n').filter((l) => l.includes('-> failed'))).toHaveLength(1);
      // the token's expiry: about a day from now, never "forever"
      const list = (await onVmOk(CP, 'sudo kubeadm token list')).split('\n').find((l) => l.startsWith(`${token} `));
      const [, ttl, expires] = list!.trim().split(/\s+/);
      expect(ttl).toMatch(/^2[0-3]h$/);
      const left = Date.parse(expires!) - Date.now();
      expect(left).toBeGreaterThan(20 * 3600_000);
      expect(left).toBeLessThanOrEqual(24 * 3600_000);

      const applied = (await onVmOk(CP, 'cat /var/log/labgen-standin/kubectl.log')).split('\n').filter((l) => l.startsWith('kubectl apply'));
      expect(applied).toEqual([
        expect.stringMatching(/^kubectl apply --server-side --force-conflicts -f https:\/\/\S+\/operator-crds\.yaml$/),
        expect.stringMatching(/^kubectl apply --server-side --force-conflicts -f https:\/\/\S+\/tigera-operator\.yaml$/),
        'kubectl apply -f /vagrant/provision/calico-installation.yaml',
      ]);

      const wLog = await onVmOk(WORKER, 'cat /var/log/labgen-standin/kubeadm.log');
      expect(wLog).toContain(`kubeadm join --config /vagrant/provision/kubeadm/${WORKER}.yaml\n`);
      expect(wLog).not.toContain('-> failed');
      // worker.sh asked the API with the join file first, then joined with it: its token is the lab's
      expect(await onVmOk(WORKER, 'cat /var/log/labgen-standin/kubectl.log')).toContain('kubectl --kubeconfig=/vagrant/.labgen/secrets/join.kubeconfig get --raw /version\n');
      // the join file the control plane wrote into its share, carried by labgen up into the worker's
      const joined = await onVmOk(WORKER, 'sudo cat /etc/kubernetes/kubelet.conf');
      expect(joined).toBe(await lab(`.labgen/secrets/vms/${CP}/secrets/join.kubeconfig`));
      expect(joined).toBe(await lab(`.labgen/secrets/vms/${WORKER}/secrets/join.kubeconfig`));
      expect(joined).toContain(`    token: ${token}\n`);
    });

    it("each VM sees only what it needs of the lab folder: provision/ and its own share as /vagrant/.labgen (its host key; the control plane the token, the worker the join file), no other VM's or Pi's host key, no munge key, not the lab's SSH key", async () => {
      requireFirst();
      const filesUnder = (dir: string) =>
        readdirSync(join(labDir, dir), { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(labDir, dir, f)).isFile()).map((f) => `${dir}/${f}`);
      const key = (vm: string) => [`.labgen/secrets/hostkeys/${vm}/ssh_host_ed25519_key`, `.labgen/secrets/hostkeys/${vm}/ssh_host_ed25519_key.pub`];
      // the lab CA: once apply.sh saved it, from the next vagrant command for the VM on
      const ca = (vm: string) => (existsSync(join(labDir, '.labgen/secrets/vms', vm, 'lab-ca.crt')) ? ['.labgen/lab-ca.crt'] : []);
      const own: Record<string, string[]> = {
        // what control-plane.sh writes into its own share: the join file, the admin kubeconfig
        [CP]: [...key(CP), '.labgen/secrets/kubeadm-token', '.labgen/secrets/join.kubeconfig', '.labgen/secrets/admin.kubeconfig', ...ca(CP)],
        [WORKER]: [...key(WORKER), '.labgen/secrets/join.kubeconfig', ...ca(WORKER)],
      };
      // what no VM may read, anywhere under /vagrant: the lab's SSH key, the munge key, the Pi's host key, the other VM's
      const never = (vm: string) => ['.labgen/secrets/id_ed25519', '.labgen/secrets/munge.key', ...key('pi-a'), ...key(VMS.find((v) => v !== vm)!)];
      for (const vm of VMS) {
        // two virtiofs mounts, nothing else of the lab folder
        expect((await onVmOk(vm, 'findmnt -rn -t virtiofs -o TARGET | sort')).trim().split('\n'), vm).toEqual(['/vagrant/.labgen', '/vagrant/provision']);
        const listed = (await onVmOk(vm, 'sudo find /vagrant -type f | sort')).trim().split('\n');
        expect(listed, vm).toEqual([...filesUnder('provision'), ...own[vm]!].map((f) => `/vagrant/${f}`).sort());
        // its own key: the one in the lab's secrets; the share's copies as the laptop has them
        for (const f of key(vm)) expect(await onVmOk(vm, `sudo cat /vagrant/${f}`), f).toBe(await lab(f));
        if (vm === CP) expect(await onVmOk(vm, 'sudo cat /vagrant/.labgen/secrets/kubeadm-token')).toBe(await lab('.labgen/secrets/kubeadm-token'));
        // and none of the others' bytes, under any name: every file's sha256 against theirs
        const sums = new Set((await onVmOk(vm, 'sudo find /vagrant -type f -exec sha256sum {} +')).trim().split('\n').map((l) => l.split(/\s+/)[0]));
        for (const f of never(vm)) {
          expect(existsSync(join(labDir, f)), f).toBe(true);
          expect(sums.has(sha(readFileSync(join(labDir, f)))), `${vm} must not see ${f}`).toBe(false);
        }
        // nor inside another file: a line of the lab key's private part (its first lines, the format's
        // header and the public half, are much the same in every ed25519 key: the VM's own has them)
        const labKeyLine = (await lab('.labgen/secrets/id_ed25519')).split('\n')[3]!;
        expect(labKeyLine).toMatch(/^[A-Za-z0-9+/=]{20,}$/);
        expect((await onVm(vm, `sudo grep -rlF -e ${labKeyLine} /vagrant`)).code, `${vm}: the lab's SSH key under /vagrant`).toBe(1);
      }
      // on the laptop: each share 0700, its secrets 0600
      for (const vm of VMS) {
        expect(statSync(join(labDir, `.labgen/secrets/vms/${vm}`)).mode & 0o777).toBe(0o700);
        for (const f of own[vm]!.filter((x) => x.startsWith('.labgen/secrets/'))) expect(statSync(join(labDir, '.labgen/secrets/vms', vm, f.slice('.labgen/'.length))).mode & 0o777, f).toBe(0o600);
      }
    });

    it('the admin kubeconfig fetched into the lab folder (0600) as the control plane has it, and merged into $KUBECONFIG (0600) as the context minilab, which the real kubectl reads', async () => {
      requireFirst();
      const admin = join(labDir, '.labgen/secrets/admin.kubeconfig');
      expect(statSync(admin).mode & 0o777).toBe(0o600);
      expect(await readFile(admin, 'utf8')).toBe(await onVmOk(CP, 'sudo cat /etc/kubernetes/admin.conf'));
      expect(first!.output).toContain(`kubeconfig: the context ${LAB} in ${kubeconfig()} (created); kubectl config use-context ${LAB}`);
      expect(statSync(kubeconfig()).mode & 0o777).toBe(0o600);
      const real = (args: string[]) => must('kubectl', ['config', `--kubeconfig=${kubeconfig()}`, ...args]);
      expect((await real(['get-contexts', '-o', 'name'])).trim()).toBe(LAB);
      expect((await real(['current-context'])).trim()).toBe(LAB);
      expect((await real(['view', '-o', `jsonpath={.clusters[?(@.name=="${LAB}")].cluster.server}`])).trim()).toBe('https://api.mini.lab:6443');
      // the same cluster CA and admin credentials as the control plane's admin.conf
      const ca = await onVmOk(CP, 'sudo cat /etc/kubernetes/pki/ca.crt');
      const dataOf = async (path: string) => Buffer.from(await real(['view', '--raw', '-o', `jsonpath=${path}`]), 'base64').toString();
      expect(await dataOf(`{.clusters[?(@.name=="${LAB}")].cluster.certificate-authority-data}`)).toBe(ca);
      expect(await dataOf(`{.users[?(@.name=="${LAB}")].user.client-certificate-data}`)).toContain('BEGIN CERTIFICATE');
      // the real ~/.kube was never touched: HOME and KUBECONFIG were the test's
      expect(laptop!.kubectlCalls().every((c) => c.includes(`KUBECONFIG=${admin} `))).toBe(true);
    });

    it('a download on a VM without a default route (flannel, cilium: a lab without NAT) fails naming the missing route, not with curl alone', async () => {
      requireFirst();
      // the flannel variant of this lab's control-plane.sh, generated; its download() run on the VM
      const dir = await mkdtemp(join(tmpdir(), 'labgen-vmbed-flannel-'));
      try {
        const doc = yaml.load(await lab('lab.yaml')) as Record<string, Record<string, unknown>>;
        await writeFile(join(dir, 'lab.yaml'), yaml.dump(deepMerge(doc, { cluster: { cni: 'flannel' } })));
        const gen = await runIn(dir, process.execPath, [LABGEN, 'generate'], { env: { ...process.env, NO_COLOR: '1' } });
        expect(gen.code, gen.stderr).toBe(0);
        const script = await readFile(join(dir, 'provision/control-plane.sh'), 'utf8');
        const fn = /^download\(\) \{\n[\s\S]*?\n\}\n/m.exec(script)?.[0];
        const url = /^ {2}download (https:\/\/\S+kube-flannel\.yml) \|$/m.exec(script)?.[1];
        expect(fn && url, 'control-plane.sh downloads the flannel manifest with download()').toBeTruthy();
        const r = await onVm(CP, 'bash -s', `set -euo pipefail\nnode_name=${CP}\n${fn}download ${url} >/dev/null\n`);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`control-plane (${CP}): cannot download ${url}: this VM has no default route (a lab without NAT)`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('a second labgen up changes nothing: no vagrant command, no provisioner, no kubectl call, the VMs not rebooted', async () => {
      requireFirst();
      const boots = await Promise.all(VMS.map(bootId));
      const logs = await Promise.all(VMS.map(standinLogs));
      laptop!.clearCalls();
      const again = await up();
      expect(again.code, tail(again.output)).toBe(0);
      for (const vm of VMS) expect(row(again.output, vm)).toEqual([vm, 'running', '-', 'ok']);
      expect(row(again.output, 'cluster')).toEqual(['cluster', '-', '-', 'ok']);
      expect(again.output).toContain('up to date: every VM runs as provisioned and k8s/ as applied; nothing to do');
      expect(laptop!.kubectlCalls()).toEqual([]);
      expect(await Promise.all(VMS.map(bootId))).toEqual(boots);
      expect(await Promise.all(VMS.map(standinLogs))).toEqual(logs);
    }, 15 * MIN);

    it('a worker powered off (virsh destroy): labgen up boots it alone, without provisioning, and it comes back as common.sh left it (swap off, modules, sysctls, lab DNS, containerd and the kubelet running)', async () => {
      requireFirst();
      const cpBoot = await bootId(CP);
      const workerBoot = await bootId(WORKER);
      const logs = await Promise.all(VMS.map(standinLogs));
      await must('virsh', ['-q', '-c', 'qemu:///system', 'destroy', `${bed!.domainPrefix}${WORKER}`]);
      laptop!.clearCalls();
      const back = await up();
      expect(back.code, tail(back.output)).toBe(0);
      expect(row(back.output, CP)).toEqual([CP, 'running', '-', 'ok']);
      expect(row(back.output, WORKER)).toEqual([WORKER, 'shutoff', `vagrant up ${WORKER} --provider libvirt`, 'ok']);
      expect(row(back.output, 'cluster')).toEqual(['cluster', '-', `nodes Ready: ${CP}, ${WORKER}`, 'ok']);
      expect(await bootId(CP)).toBe(cpBoot);
      expect(await bootId(WORKER)).not.toBe(workerBoot);
      // not provisioned again (the stand-ins were not called), and all of it survived the reboot
      expect(await Promise.all(VMS.map(standinLogs))).toEqual(logs);
      expect(
        (await onVmOk(
          WORKER,
          'systemctl is-active containerd kubelet; echo swap=$(swapon --show --noheadings | wc -l); lsmod | awk \'$1=="br_netfilter"||$1=="overlay"{print $1}\' | sort; ' +
            'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables',
        )).split('\n'),
      ).toEqual(['active', 'active', 'swap=0', 'br_netfilter', 'overlay', '1', '1', '']);
      // dhclient ran at boot: the lab DNS stays the resolver's (labgen-lab-dns' enter hook)
      expect(await onVmOk(WORKER, 'cat /etc/resolv.conf')).toBe(await lab('provision/files/etc/resolv.conf'));
    }, 30 * MIN);

    it('a provisioning step that fails on the control plane (a real one: /etc/modules-load.d is not a directory): exit 1 naming the VM and the step; the worker is skipped and left as it was; the next labgen up resumes both', async () => {
      requireFirst();
      // a change for every VM's common.sh: the lab DNS forwards to another resolver
      const doc = yaml.load(await lab('lab.yaml')) as Record<string, Record<string, unknown>>;
      const oldResolv = await lab('provision/files/etc/resolv.conf');
      await writeFile(join(labDir, 'lab.yaml'), yaml.dump(deepMerge(doc, { network: { upstreamDns: [OTHER_UPSTREAM] } })));
      const gen = await runIn(labDir, process.execPath, [LABGEN, 'generate'], { env: { ...process.env, NO_COLOR: '1' } });
      expect(gen.code, gen.stdout + gen.stderr).toBe(0);
      const newResolv = await lab('provision/files/etc/resolv.conf');
      expect(newResolv).toContain(`nameserver ${OTHER_UPSTREAM}\n`);

      await onVmOk(CP, 'sudo mv /etc/modules-load.d /etc/modules-load.d.away && sudo touch /etc/modules-load.d');
      const workerBoot = await bootId(WORKER);
      const workerLogs = await standinLogs(WORKER);
      const failed = await up();
      expect(failed.code, tail(failed.output)).toBe(1);
      expect(row(failed.output, CP)).toEqual([CP, 'running', `vagrant provision ${CP}`, 'FAILED (common)']);
      expect(row(failed.output, WORKER)).toEqual([WORKER, 'running', '-', 'skipped']);
      expect(row(failed.output, 'cluster')).toEqual(['cluster', '-', '-', 'skipped']);
      expect(failed.output).toContain(`labgen: up failed on ${CP}; the other VMs are as they were (labgen up again resumes)`);
      expect(failed.output).toContain(`${CP}: failed at common: \`vagrant provision ${CP}\` exited 1`);
      expect(failed.output).toMatch(/install: cannot create directory '\/etc\/modules-load\.d': (File exists|Not a directory)/);
      // the worker as it was: its resolver unchanged, not provisioned, not rebooted
      expect(await onVmOk(WORKER, 'cat /etc/resolv.conf')).toBe(oldResolv);
      expect(await standinLogs(WORKER)).toBe(workerLogs);
      expect(await bootId(WORKER)).toBe(workerBoot);

      await onVmOk(CP, 'sudo rm /etc/modules-load.d && sudo mv /etc/modules-load.d.away /etc/modules-load.d');
      const resumed = await up();
      expect(resumed.code, tail(resumed.output)).toBe(0);
      expect(row(resumed.output, CP)).toEqual([CP, 'running', `vagrant provision ${CP}`, 'ok']);
      expect(row(resumed.output, WORKER)).toEqual([WORKER, 'running', `vagrant provision ${WORKER}`, 'ok']);
      expect(row(resumed.output, 'cluster')?.[3]).toBe('ok');
      for (const vm of VMS) expect(await onVmOk(vm, 'cat /etc/resolv.conf')).toBe(newResolv);
      expect(await onVmOk(CP, 'cat /etc/modules-load.d/k8s.conf')).toBe(await lab('provision/files/etc/modules-load.d/k8s.conf'));
      // the joined worker did not join again
      expect((await onVmOk(WORKER, 'cat /var/log/labgen-standin/kubeadm.log')).match(/^kubeadm join /gm)).toHaveLength(1);
    }, 30 * MIN);

    it('labgen node remove: the worker drained and deleted (stand-in: kubectl on the laptop), provision/reset.sh fed to it through vagrant ssh and run as root (stand-in: kubeadm), its VM destroyed, lab.yaml one worker less', async () => {
      requireFirst();
      laptop!.clearCalls();
      const r = await labgen(['node', 'remove', WORKER, '--yes'], 10 * MIN);
      expect(r.code, tail(r.output)).toBe(0);
      const kubectl = laptop!.kubectlCalls().map((c) => c.split(' KUBECONFIG=')[0]);
      const admin = `--kubeconfig=${join(labDir, '.labgen/secrets/admin.kubeconfig')}`;
      expect(kubectl).toEqual([`kubectl ${admin} drain ${WORKER} --ignore-daemonsets --delete-emptydir-data --force --timeout=120s`, `kubectl ${admin} delete node ${WORKER} --ignore-not-found`]);
      // what reset.sh printed in the VM, read back from vagrant ssh: kubeadm reset ran, and the worker's kubeconfig of the cluster went with it
      expect(row(r.output, WORKER)?.[1]).toMatch(/^kubectl drain worker-0; kubeadm reset(, [^;]+)?; kubectl delete node worker-0; vagrant destroy -f worker-0$/);
      const domains = await must('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name']);
      expect(domains.split('\n').filter((d) => d.startsWith(bed!.domainPrefix))).toEqual([`${bed!.domainPrefix}${CP}`]);
      expect((yaml.load(await lab('lab.yaml')) as { cluster: { workers: { count: number } } }).cluster.workers.count).toBe(0);
      expect(await lab('Vagrantfile')).not.toContain(WORKER);
    }, 15 * MIN);

    it('labgen reset: kubeadm reset on the control plane (stand-in: kubeadm), the admin kubeconfig gone here; the next labgen up provisions it again: a new kubeadm init', async () => {
      requireFirst();
      const r = await labgen(['reset', '--yes'], 10 * MIN);
      expect(r.code, tail(r.output)).toBe(0);
      expect(await standinLogs(CP)).toMatch(/^kubeadm reset --force$/m);
      expect((await onVm(CP, 'test -e /etc/kubernetes/admin.conf')).code).not.toBe(0);
      expect(existsSync(join(labDir, '.labgen/secrets/admin.kubeconfig'))).toBe(false);
      const again = await up();
      expect(again.code, tail(again.output)).toBe(0);
      expect(row(again.output, CP)).toEqual([CP, 'running', `vagrant provision ${CP}`, 'ok']);
      expect((await standinLogs(CP)).match(/^kubeadm init /gm)).toHaveLength(2);
      expect(existsSync(join(labDir, '.labgen/secrets/admin.kubeconfig'))).toBe(true);
    }, 30 * MIN);

    it('vagrant destroy -f removes the VMs and leaves the management network it did not make (management_network_keep)', async () => {
      requireFirst();
      const down = await runLogged('vagrant', ['destroy', '-f'], { cwd: labDir, env: bed!.vagrantEnv(), logFile: bed!.log, timeoutMs: 5 * MIN });
      expect(down.code, tail(down.output)).toBe(0);
      const domains = await must('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name']);
      expect(domains.split('\n').filter((d) => d.startsWith(bed!.domainPrefix))).toEqual([]);
      expect((await run('virsh', ['-q', '-c', 'qemu:///system', 'net-info', bed!.management.network])).code).toBe(0);
    }, 6 * MIN);
  },
);

describeE2e('the Vagrantfile\'s LABGEN_LIBVIRT_MANAGEMENT_NETWORK option (vagrant-libvirt; libvirt\'s in-process test:///default driver)', { commands: ['vagrant'] }, () => {
  it('set without LABGEN_LIBVIRT_MANAGEMENT_ADDRESS: vagrant stops and names the missing variable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'labgen-vmbed-opt-'));
    try {
      const lab = deepMerge(yaml.load(readFileSync(join(REPO_ROOT, 'labs/minimal/lab.yaml'), 'utf8')), { cluster: { provider: 'libvirt' } });
      await writeFile(join(dir, 'lab.yaml'), yaml.dump(lab));
      const gen = await runIn(dir, process.execPath, [LABGEN, 'generate']);
      expect(gen.code, gen.stderr).toBe(0);
      const env = {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VAGRANT_|LIBVIRT_|LABGEN_LIBVIRT_)/.test(k))),
        VAGRANT_HOME: join(dir, 'vagrant.d'),
        VAGRANT_CHECKPOINT_DISABLE: '1',
        LIBVIRT_DEFAULT_URI: 'test:///default',
      };
      const ok = await runIn(dir, 'vagrant', ['validate'], { env });
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      const bad = await runIn(dir, 'vagrant', ['validate'], { env: { ...env, LABGEN_LIBVIRT_MANAGEMENT_NETWORK: 'lab-mgmt' } });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('LABGEN_LIBVIRT_MANAGEMENT_NETWORK is set: set LABGEN_LIBVIRT_MANAGEMENT_ADDRESS to its subnet too');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 2 * MIN);
});
