/**
 * The generated Vagrantfile and provisioning scripts, run for real: a tiny lab (1 control plane
 * + 1 worker) planned by the real `labgen generate`, then plain `vagrant up` with the libvirt
 * provider on the VM test bed (test/support/vm-bed/): both VMs boot the labgen test box, every
 * provisioner runs, and the test process, standing for the laptop, reaches each VM at its lab IP
 * over a Linux bridge (what macvtap on the NIC made impossible). Nothing leaves the machine:
 * the test shows there is no NAT and no forwarding. Kubernetes' binaries cannot exist here: the
 * box carries stand-ins for kubeadm, kubelet and kubectl, and the test names say so.
 *
 * Slow (TCG guests): about 10 minutes, most of it `vagrant up`; bed.log in the bed's folder has
 * every vagrant line with its time (LABGEN_VMBED_KEEP=1 keeps the folder).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deepMerge, REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { runIn, must, run } from '../support/vm-bed/proc.js';
import { runLogged, startVmBed, tail, type LoggedResult, type VmBed, vmBedNeeds } from '../support/vm-bed/index.js';

const MIN = 60_000;
const CP = 'k8s';
const WORKER = 'worker-0';

describeE2e(
  'vagrant up --provider=libvirt, for real: 1 control plane + 1 worker on a Linux bridge, no NAT (stand-in: kubeadm, kubelet, kubectl)',
  vmBedNeeds(),
  () => {
    let bed: VmBed | undefined;
    let labDir = '';
    let up: LoggedResult | undefined;
    const ips: Record<string, string> = {};
    const knownHosts = () => join(labDir, '.vmbed-known_hosts');

    const vagrant = (args: string[], timeoutMs = 30 * MIN) =>
      runLogged('vagrant', args, { cwd: labDir, env: bed!.vagrantEnv(), logFile: bed!.log, timeoutMs });
    /** a command on a VM the way the laptop gets there: ssh to its lab IP, its host key pinned */
    const onVm = async (vm: string, cmd: string) => {
      const key = join(labDir, '.vagrant', 'machines', vm, 'libvirt', 'private_key');
      const args = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts()}`, '-o', 'ConnectTimeout=20'];
      return run('ssh', [...args, '-i', key, `vagrant@${ips[vm]}`, cmd]);
    };
    const onVmOk = async (vm: string, cmd: string) => {
      const r = await onVm(vm, cmd);
      expect(r.code, `${vm}: ${cmd}\n${r.stdout}${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const requireUp = () => {
      if (!up || up.code !== 0) throw new Error(`vagrant up failed (exit ${up?.code}); its end:\n${tail(up?.output ?? '')}`);
    };

    beforeAll(async () => {
      bed = await startVmBed();
      ips[CP] = bed.ip(10);
      ips[WORKER] = bed.ip(11);
      labDir = await mkdtemp(join(tmpdir(), 'labgen-vmbed-lab-'));
      // labs/minimal with the bed's LAN and box, a worker, and calico (its manifests are applied
      // by URL, which the kubectl stand-in notes; flannel's and cilium's are fetched with curl)
      const base = yaml.load(readFileSync(join(REPO_ROOT, 'labs/minimal/lab.yaml'), 'utf8'));
      const lab = deepMerge(base, {
        network: bed.labNetwork(),
        cluster: {
          ...bed.labCluster(),
          cni: 'calico',
          controlPlane: { name: CP, ip: ips[CP], cpus: 1, memory: 1024 },
          workers: { count: 1, namePrefix: 'worker-', firstIp: ips[WORKER], cpus: 1, memory: 1024 },
        },
        pis: { nodes: [{ name: 'pi-a', ip: bed.ip(21), roles: ['aptcache', 'compute'] }] },
        services: { metallb: { addresses: [`${bed.ip(100)}-${bed.ip(119)}`] }, coredns: { ip: bed.ip(100) } },
        slurm: { controller: 'pi-a', nodes: ['pi-a'] },
      });
      await writeFile(join(labDir, 'lab.yaml'), yaml.dump(lab));
      const gen = await runIn(labDir, process.execPath, [join(REPO_ROOT, 'dist', 'bin', 'labgen.js'), 'generate'], { env: { ...process.env, NO_COLOR: '1' } });
      if (gen.code !== 0) throw new Error(`labgen generate failed (exit ${gen.code}):\n${gen.stdout}${gen.stderr}`);
      up = await vagrant(['up']);
      process.stderr.write(`vagrant up: ${up.seconds}s (exit ${up.code}); log: ${bed.log}\n`);
    }, 60 * MIN);

    afterAll(async () => {
      // vagrant's own teardown first (a test below does it too); the bed removes what is left
      if (bed && labDir) await vagrant(['destroy', '-f'], 5 * MIN).catch(() => undefined);
      await bed?.stop();
      if (labDir) await rm(labDir, { recursive: true, force: true });
    }, 10 * MIN);

    it('vagrant up exits 0: both VMs boot and common.sh, control-plane.sh and worker.sh each run to their end', () => {
      requireUp();
      const out = up!.output;
      expect(out).toMatch(new RegExp(`common \\(${CP}, ${ips[CP]!.replace(/\./g, '\\.')}\\): changed: `));
      expect(out).toMatch(new RegExp(`common \\(${WORKER}, ${ips[WORKER]!.replace(/\./g, '\\.')}\\): changed: `));
      expect(out).toMatch(new RegExp(`control-plane \\(${CP}\\): changed: kubeadm init `));
      expect(out).toContain(`worker (${WORKER}): changed: kubeadm join`);
    });

    it("the laptop reaches each VM at its lab IP over the Linux bridge (libvirt type 'bridge', not macvtap): the route is the bridge, and ssh pinned to the VM's own host key answers with its name", async () => {
      requireUp();
      const lines: string[] = [];
      for (const vm of [CP, WORKER]) {
        // the host key, read over Vagrant's management network, pins the lab-IP connection
        const key = await runIn(labDir, 'vagrant', ['ssh', vm, '-c', 'cat /etc/ssh/ssh_host_ed25519_key.pub'], { env: bed!.vagrantEnv() });
        expect(key.code, key.stderr).toBe(0);
        const [type, blob] = key.stdout.trim().split(/\s+/);
        expect(type).toBe('ssh-ed25519');
        lines.push(`${ips[vm]} ${type} ${blob}`);
      }
      await writeFile(knownHosts(), `${lines.join('\n')}\n`);
      for (const vm of [CP, WORKER]) {
        expect(await must('ip', ['route', 'get', ips[vm]!])).toMatch(new RegExp(`dev ${bed!.bridge} src ${bed!.gateway.replace(/\./g, '\\.')}`));
        expect((await onVmOk(vm, 'hostname')).trim()).toBe(vm);
        // the VM's lab adapter is a tap on the bridge (domiflist: type bridge, source the bridge)
        const ifaces = await must('virsh', ['-q', '-c', 'qemu:///system', 'domiflist', `${bed!.domainPrefix}${vm}`]);
        expect(ifaces).toMatch(new RegExp(`^\\s*\\S+\\s+bridge\\s+${bed!.bridge}\\s`, 'm'));
        expect(ifaces).not.toMatch(/\sdirect\s/);
      }
    });

    it('no NAT and no forwarding out: the management network has no <forward> and no DNS, nothing is masqueraded, the management bridge is fenced, the lab bridge has no uplink, and the VMs have no default route', async () => {
      requireUp();
      const net = await must('virsh', ['-q', '-c', 'qemu:///system', 'net-dumpxml', bed!.management.network]);
      expect(net).not.toContain('<forward');
      expect((await must('virsh', ['-q', '-c', 'qemu:///system', 'net-list', '--all', '--name'])).split('\n')).not.toContain('vagrant-libvirt');
      expect(net).toContain("<dns enable='no'/>");

      const nat = await must('iptables-save', ['-t', 'nat']);
      const subnets = [bed!.subnet, bed!.management.subnet];
      const natRules = nat.split('\n').filter((l) => l.startsWith('-A '));
      expect(natRules.filter((l) => subnets.some((s) => l.includes(s)))).toEqual([]);
      // libvirt writes its NAT rules in LIBVIRT_PRT: none for any network
      expect(natRules.filter((l) => l.startsWith('-A LIBVIRT_PRT'))).toEqual([]);

      const filter = (await must('iptables-save', ['-t', 'filter'])).split('\n');
      const mb = bed!.management.bridge;
      expect(filter).toContain(`-A LIBVIRT_FWO -i ${mb} -j REJECT --reject-with icmp-port-unreachable`);
      expect(filter).toContain(`-A LIBVIRT_FWI -o ${mb} -j REJECT --reject-with icmp-port-unreachable`);
      // the one ACCEPT of forwarded traffic: within the management bridge itself
      expect(filter.filter((l) => l.includes(mb) && /-j ACCEPT$/.test(l) && /^-A LIBVIRT_FW/.test(l))).toEqual([`-A LIBVIRT_FWX -i ${mb} -o ${mb} -j ACCEPT`]);

      // on the lab bridge: the VMs' taps only
      const ports = (await must('ip', ['-o', 'link', 'show', 'master', bed!.bridge])).trim().split('\n');
      expect(ports).toHaveLength(2);
      for (const vm of [CP, WORKER]) {
        const ifaces = await must('virsh', ['-q', '-c', 'qemu:///system', 'domiflist', `${bed!.domainPrefix}${vm}`]);
        const tap = ifaces.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[2] === bed!.bridge)?.[0];
        expect(ports.some((p) => p.includes(` ${tap}:`)), `${tap} in ${ports.join('\n')}`).toBe(true);
      }

      for (const vm of [CP, WORKER]) {
        // Vagrant's adapter is on the bed's network (LABGEN_LIBVIRT_MANAGEMENT_*), not vagrant-libvirt's NAT one
        const mgmtPrefix = bed!.management.subnet.replace(/\.0\/24$/, '.');
        expect(await onVmOk(vm, 'ip -4 -o addr show dev eth0')).toContain(` inet ${mgmtPrefix}`);
        const routes = await onVmOk(vm, 'ip -4 route');
        expect(routes).not.toMatch(/^default/m);
        const out = await onVm(vm, 'ip route get 198.51.100.1');
        expect(out.code, `${vm} has a route off the machine: ${out.stdout}`).not.toBe(0);
        expect(out.stderr).toContain('Network is unreachable');
      }
    });

    it('common.sh set each VM up: containerd runs the generated config.toml, the kubelet is enabled and running, swap is off, br_netfilter and overlay are loaded, ip_forward is 1, /etc/hosts has the lab block (stand-in: kubelet)', async () => {
      requireUp();
      const config = createHash('sha256').update(await readFile(join(labDir, 'provision/files/etc/containerd/config.toml'))).digest('hex');
      const hostsBlock = await readFile(join(labDir, 'provision/files/etc/hosts.lab'), 'utf8');
      for (const vm of [CP, WORKER]) {
        const out = await onVmOk(
          vm,
          'sudo sha256sum /etc/containerd/config.toml; systemctl is-active containerd kubelet; systemctl is-enabled kubelet; ' +
            'echo swap=$(swapon --show --noheadings | wc -l); lsmod | awk \'$1=="br_netfilter"||$1=="overlay"{print $1}\' | sort; ' +
            'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables',
        );
        expect(out.split('\n')).toEqual([
          `${config}  /etc/containerd/config.toml`,
          'active',
          'active',
          'enabled',
          'swap=0',
          'br_netfilter',
          'overlay',
          '1',
          '1',
          '',
        ]);
        expect(await onVmOk(vm, 'cat /etc/hosts')).toContain(hostsBlock);
      }
    });

    it('control-plane.sh and worker.sh drove kubeadm and kubectl as a cluster needs: init and join with the generated configs, the lab bootstrap token, Calico by its manifests (stand-in: kubeadm, kubelet, kubectl)', async () => {
      requireUp();
      const token = (await readFile(join(labDir, '.labgen/secrets/kubeadm-token'), 'utf8')).trim();
      const cpLog = await onVmOk(CP, 'cat /var/log/labgen-standin/kubeadm.log');
      const cpConfig = await readFile(join(labDir, `provision/kubeadm/${CP}.yaml`), 'utf8');
      expect(cpLog).toContain(`kubeadm init --config /vagrant/provision/kubeadm/${CP}.yaml\n  --- /vagrant/provision/kubeadm/${CP}.yaml\n${cpConfig.trimEnd().split('\n').map((l) => `  | ${l}`).join('\n')}\n`);
      expect(cpLog).toContain(`kubeadm token create ${token} --ttl 0 --description labgen:\\ workers\\ join\\ with\\ it`);
      expect(cpLog).not.toContain('-> failed');

      const kubectl = await onVmOk(CP, 'cat /var/log/labgen-standin/kubectl.log');
      const applied = kubectl.split('\n').filter((l) => l.startsWith('kubectl apply'));
      expect(applied).toEqual([
        expect.stringMatching(/^kubectl apply --server-side --force-conflicts -f https:\/\/\S+\/operator-crds\.yaml$/),
        expect.stringMatching(/^kubectl apply --server-side --force-conflicts -f https:\/\/\S+\/tigera-operator\.yaml$/),
        'kubectl apply -f /vagrant/provision/calico-installation.yaml',
      ]);

      const wLog = await onVmOk(WORKER, 'cat /var/log/labgen-standin/kubeadm.log');
      expect(wLog).toContain(`kubeadm join --config /vagrant/provision/kubeadm/${WORKER}.yaml\n`);
      expect(wLog).not.toContain('-> failed');
      expect(await onVmOk(WORKER, 'sudo cat /etc/kubernetes/kubelet.conf')).toBe(await readFile(join(labDir, '.labgen/secrets/join.kubeconfig'), 'utf8'));
    });

    it('the control plane left admin.kubeconfig and join.kubeconfig in the lab folder (0600): admin is its admin.conf, join names the API by name with the cluster CA and the lab token (stand-in: kubeadm, kubectl)', async () => {
      requireUp();
      const secrets = join(labDir, '.labgen/secrets');
      for (const f of ['admin.kubeconfig', 'join.kubeconfig']) expect(statSync(join(secrets, f)).mode & 0o777, f).toBe(0o600);
      const admin = await readFile(join(secrets, 'admin.kubeconfig'), 'utf8');
      expect(admin).toBe(await onVmOk(CP, 'sudo cat /etc/kubernetes/admin.conf'));
      const join_ = yaml.load(await readFile(join(secrets, 'join.kubeconfig'), 'utf8')) as {
        clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
        users: { user: { token: string } }[];
        'current-context': string;
      };
      expect(join_.clusters[0]!.cluster.server).toBe('https://api.mini.lab:6443');
      const ca = await onVmOk(CP, 'sudo cat /etc/kubernetes/pki/ca.crt');
      expect(Buffer.from(join_.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString()).toBe(ca);
      expect(join_.users[0]!.user.token).toBe((await readFile(join(secrets, 'kubeadm-token'), 'utf8')).trim());
      expect(join_['current-context']).toBe('bootstrap');
    });

    it('a second `vagrant provision` changes nothing, and each script says so (stand-in: kubeadm, kubelet, kubectl)', async () => {
      requireUp();
      const again = await vagrant(['provision'], 20 * MIN);
      expect(again.code, tail(again.output)).toBe(0);
      for (const line of [
        `lab dns (/etc/resolv.conf): nothing to change`,
        `common (${CP}, ${ips[CP]}): nothing to change`,
        `common (${WORKER}, ${ips[WORKER]}): nothing to change`,
        `control-plane (${CP}): nothing to change`,
        `worker (${WORKER}): already joined; nothing to change`,
      ]) {
        expect(again.output, tail(again.output)).toContain(line);
      }
      expect(again.output).not.toContain('changed:');
    }, 25 * MIN);

    it('vagrant destroy -f removes both VMs and leaves the management network it did not make (management_network_keep)', async () => {
      requireUp();
      const down = await vagrant(['destroy', '-f'], 5 * MIN);
      expect(down.code, tail(down.output)).toBe(0);
      const domains = await must('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name']);
      expect(domains.split('\n').filter((d) => d.startsWith(bed!.domainPrefix))).toEqual([]);
      expect((await run('virsh', ['-q', '-c', 'qemu:///system', 'net-info', bed!.management.network])).code).toBe(0);
      process.stderr.write(`vagrant destroy: ${down.seconds}s\n`);
    }, 6 * MIN);
  },
);

describeE2e('the Vagrantfile\'s LABGEN_LIBVIRT_MANAGEMENT_NETWORK option (vagrant-libvirt; libvirt\'s in-process test:///default driver)', { commands: ['vagrant'] }, () => {
  it('set without LABGEN_LIBVIRT_MANAGEMENT_ADDRESS: vagrant stops and names the missing variable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'labgen-vmbed-opt-'));
    try {
      const lab = deepMerge(yaml.load(readFileSync(join(REPO_ROOT, 'labs/minimal/lab.yaml'), 'utf8')), { cluster: { provider: 'libvirt' } });
      await writeFile(join(dir, 'lab.yaml'), yaml.dump(lab));
      const gen = await runIn(dir, process.execPath, [join(REPO_ROOT, 'dist', 'bin', 'labgen.js'), 'generate']);
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
