/**
 * A test bed for real `vagrant up --provider=libvirt`: libvirt's daemons, an isolated network
 * for Vagrant, a Linux bridge standing in for the laptop's lab LAN, and the labgen test box
 * (box/: Debian 12 with stand-ins for kubeadm, kubelet and kubectl). Needs root and the
 * Debian packages `.ci/run` installs.
 *
 *   const bed = await startVmBed();
 *   // lab.yaml: { network: bed.labNetwork(), cluster: { ...bed.labCluster(), controlPlane: { ip: bed.ip(10) } } }
 *   await runLogged('vagrant', ['up'], { cwd: labDir, env: bed.vagrantEnv(), ... });
 *   await bed.stop();
 *
 * Nothing reaches off the machine:
 * - Vagrant's management network (each VM's first adapter, its ssh) is a libvirt network the bed
 *   defines with no `<forward>` (isolated: no NAT, no route out, libvirt's dnsmasq hands out no
 *   router) and DNS off; the generated Vagrantfile takes it from LABGEN_LIBVIRT_MANAGEMENT_NETWORK
 *   and _ADDRESS (its documented option for labs without NAT), so vagrant-libvirt never makes
 *   its NAT network.
 * - The lab LAN is a plain Linux bridge with no uplink; the machine has the lab gateway's
 *   address on it, so this process is "the laptop" and reaches the VMs' lab IPs over it.
 *
 * The bed's own Vagrantfile (VAGRANT_HOME/Vagrantfile, which Vagrant reads before the lab's)
 * carries what is about this machine only: TCG instead of KVM (nested KVM hangs the guests
 * here), the bed's storage pool, a domain-name prefix to find the bed's VMs by, no VNC.
 *
 * Parallel beds do not clash: each reserves a slot X by creating bridge lgvlX (atomic), and
 * every name and subnet carries X: lab 10.78.X.0/24, management 10.79.X.0/24, libvirt network
 * labgen-vmbed-X, pool labgen-vmbed-X, domains labgen-vmbed-X-*.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Needs } from '../prereq.js';
import { ensureBox, VM_BED_BOX } from './box.js';
import {
  acquireLibvirt,
  isolatedNetworkXml,
  LIBVIRT_URI,
  pidAlive,
  releaseLibvirt,
  removeDomains,
  removeNetwork,
  removePool,
  virsh,
} from './libvirt.js';
import { must, run, runLogged, tail } from './proc.js';

export { VM_BED_BOX } from './box.js';
export { runLogged, tail, type LoggedResult } from './proc.js';

/** What a suite that uses the bed needs (for describeE2e). */
export function vmBedNeeds(): Needs {
  return {
    root: true,
    commands: [
      'vagrant', 'virsh', 'libvirtd', 'virtlogd', 'qemu-system-x86_64', 'qemu-img', 'mmdebstrap', 'mke2fs', 'dpkg-deb',
      'apt-get', 'flock', 'unshare', 'mount', 'ip', 'iptables', 'iptables-save', 'ssh',
    ],
  };
}

export interface VmBed {
  /** the bed's folder: VAGRANT_HOME, the storage pool, the logs (bed.log: every long command) */
  dir: string;
  /** the log of the box build, vagrant box add and whatever the caller runs with runLogged */
  log: string;
  /** the box to put in lab.yaml's cluster.box */
  box: string;
  /** the lab bridge (no uplink): lab.yaml's cluster.bridge */
  bridge: string;
  /** the lab subnet on the bridge, e.g. 10.78.5.0/24 */
  subnet: string;
  /** this machine's address on the bridge (the laptop's, the lab gateway), e.g. 10.78.5.1 */
  gateway: string;
  /** Vagrant's isolated management network */
  management: { network: string; bridge: string; subnet: string; gateway: string };
  /** the prefix of every domain the bed's Vagrant makes */
  domainPrefix: string;
  /** the storage pool the bed's Vagrant puts the box and the VMs' disks in */
  pool: string;
  /** address .n of the lab subnet */
  ip(n: number): string;
  /** lab.yaml's network for the bed */
  labNetwork(): { subnet: string; gateway: string };
  /** lab.yaml's cluster.provider, box and bridge for the bed */
  labCluster(): { provider: 'libvirt'; box: string; bridge: string };
  /** the settings vagrant needs (VAGRANT_HOME, LIBVIRT_DEFAULT_URI, the management network) */
  env: Record<string, string>;
  /** process.env without the caller's VAGRANT_* / LIBVIRT_* / LABGEN_LIBVIRT_*, plus env */
  vagrantEnv(): NodeJS.ProcessEnv;
  /** removes every domain, network, pool and bridge the bed made, its folder, and stops the
   * daemons when it started them and is the last bed; idempotent */
  stop(): Promise<void>;
}

export interface StartVmBedOptions {
  /** keep the bed's folder (its logs) after stop; default: kept only when $LABGEN_VMBED_KEEP is set */
  keepDir?: boolean;
}

const BRIDGE_ALIAS = 'labgen-vmbed pid=';

/** Reserve slot X: creating bridge lgvlX fails when another bed has it. */
async function reserveSlot(): Promise<{ slot: number; bridge: string }> {
  const first = (process.pid % 200) + 20;
  for (let i = 0; i < 200; i++) {
    const slot = ((first - 20 + i) % 200) + 20;
    const bridge = `lgvl${slot}`;
    if ((await run('ip', ['link', 'add', bridge, 'type', 'bridge'])).code === 0) {
      await must('ip', ['link', 'set', bridge, 'alias', `${BRIDGE_ALIAS}${process.pid}`]);
      return { slot, bridge };
    }
  }
  throw new Error('no free slot for a VM test bed (bridges lgvl20..lgvl219 all exist)');
}

/** What beds killed before their stop left: their bridge's pid is dead. */
async function sweepStale(): Promise<void> {
  for (const dev of readdirSync('/sys/class/net').filter((d) => /^lgvl\d+$/.test(d))) {
    let alias = '';
    try {
      alias = readFileSync(`/sys/class/net/${dev}/ifalias`, 'utf8').trim();
    } catch {
      continue;
    }
    const pid = Number(alias.slice(BRIDGE_ALIAS.length));
    if (!alias.startsWith(BRIDGE_ALIAS) || pidAlive(pid)) continue;
    const slot = dev.slice('lgvl'.length);
    await removeDomains(`labgen-vmbed-${slot}-`);
    await removeNetwork(`labgen-vmbed-${slot}`);
    await removePool(`labgen-vmbed-${slot}`);
    await run('ip', ['link', 'del', dev]);
  }
}

/** VAGRANT_HOME/Vagrantfile: this machine's settings for every lab's VMs (read before the lab's own). */
function homeVagrantfile(pool: string, prefix: string): string {
  return `# The VM test bed's settings for this machine (labgen tests), read before the lab's Vagrantfile.
Vagrant.configure('2') do |config|
  config.vm.provider :libvirt do |lv|
    # TCG, not KVM: nested KVM hangs the guests on the test machine
    lv.driver = 'qemu'
    lv.storage_pool_name = '${pool}'
    # the bed finds (and removes) its VMs by this prefix
    lv.default_prefix = '${prefix}'
    lv.graphics_type = 'none'
  end
end
`;
}

export async function startVmBed(opts: StartVmBedOptions = {}): Promise<VmBed> {
  const dir = await mkdtemp(join(tmpdir(), 'labgen-vmbed-'));
  // qemu runs as libvirt-qemu and reads the box's kernel from VAGRANT_HOME
  await chmod(dir, 0o755);
  const log = join(dir, 'bed.log');
  await writeFile(log, '');
  const cleanups: (() => Promise<unknown>)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const errors: unknown[] = [];
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => errors.push(e));
    if (!(opts.keepDir ?? !!process.env.LABGEN_VMBED_KEEP)) await rm(dir, { recursive: true, force: true });
    if (errors.length) throw new AggregateError(errors, 'stopping the VM test bed');
  };
  try {
    const box = await ensureBox(log);
    await acquireLibvirt(dir);
    cleanups.push(releaseLibvirt);
    await sweepStale();
    const { slot, bridge } = await reserveSlot();
    cleanups.push(() => run('ip', ['link', 'del', bridge]));
    const lab = `10.78.${slot}`;
    const mgmt = `10.79.${slot}`;
    const name = `labgen-vmbed-${slot}`;
    const domainPrefix = `${name}-`;

    // the laptop's side of the lab LAN: its gateway address, no uplink
    await must('ip', ['addr', 'add', `${lab}.1/24`, 'dev', bridge]);
    await must('ip', ['link', 'set', bridge, 'up']);

    const management = { network: name, bridge: `lgvm${slot}`, subnet: `${mgmt}.0/24`, gateway: `${mgmt}.1` };
    const netXml = join(dir, 'management-network.xml');
    await writeFile(netXml, isolatedNetworkXml(name, management.bridge, management.gateway, [`${mgmt}.100`, `${mgmt}.199`]));
    // transient (net-create): nothing of it stays in libvirt's configuration
    await virsh('net-create', netXml);
    cleanups.push(() => removeNetwork(name));

    const poolDir = join(dir, 'pool');
    await virsh('pool-create-as', name, 'dir', '--target', poolDir, '--build');
    cleanups.push(() => removePool(name));
    cleanups.push(() => removeDomains(domainPrefix)); // runs first: a VM holds its volumes

    const vagrantHome = join(dir, 'vagrant.d');
    const env: Record<string, string> = {
      VAGRANT_HOME: vagrantHome,
      VAGRANT_CHECKPOINT_DISABLE: '1',
      VAGRANT_NO_COLOR: '1',
      LIBVIRT_DEFAULT_URI: LIBVIRT_URI,
      LABGEN_LIBVIRT_MANAGEMENT_NETWORK: management.network,
      LABGEN_LIBVIRT_MANAGEMENT_ADDRESS: management.subnet,
    };
    const vagrantEnv = (): NodeJS.ProcessEnv => ({
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VAGRANT_|LIBVIRT_|LABGEN_LIBVIRT_)/.test(k))),
      ...env,
    });
    await mkdir(vagrantHome, { recursive: true });
    await writeFile(join(vagrantHome, 'Vagrantfile'), homeVagrantfile(name, domainPrefix));
    const added = await runLogged('vagrant', ['box', 'add', '--name', VM_BED_BOX, box], { env: vagrantEnv(), logFile: log, timeoutMs: 10 * 60_000 });
    if (added.code !== 0) throw new Error(`vagrant box add failed (exit ${added.code}):\n${tail(added.output)}`);

    return {
      dir,
      log,
      box: VM_BED_BOX,
      bridge,
      subnet: `${lab}.0/24`,
      gateway: `${lab}.1`,
      management,
      domainPrefix,
      pool: name,
      ip: (n) => `${lab}.${n}`,
      labNetwork: () => ({ subnet: `${lab}.0/24`, gateway: `${lab}.1` }),
      labCluster: () => ({ provider: 'libvirt', box: VM_BED_BOX, bridge }),
      env,
      vagrantEnv,
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
