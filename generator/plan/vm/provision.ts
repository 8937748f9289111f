import type { Lab } from '../../model/defaults.js';
import { onExistingHosts, vms } from '../../model/hosts.js';
import { type DiskUse, PREPARE_DISK_TEMPLATE } from '../pi/storage.js';
import { shellQuote } from '../../common/quote.js';
import { firewalldPorts } from '../support/cluster-ports.js';
import { CNI_LEFTOVERS } from '../support/cni-leftovers.js';
import { EXISTING_LAB_ROOT, labRoot } from './lab-root.js';
import { apiEndpoint } from './kubeadm-config.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { hostsBlock } from '../support/hosts-file.js';
import { marker } from '../../common/quote.js';
import { render } from '../support/render.js';
import { containerdCaPath, containerdHostsToml, registryHost } from '../k8s/registry.js';
import { containerdReleases, kubernetesMinor, pauseImage, UPSTREAM } from '../support/versions.js';
import { toYaml } from '../support/yaml.js';
import { SECRETS_DIR } from '../../common/layout.js';
import { hostKeySecret } from '../../secrets/paths.js';

/**
 * provision/: the scripts the VMs run and the files they place. Each script and file has a
 * template of the same path under templates/; files/ mirrors where they land on the VM.
 */

/**
 * Where a VM finds the SSH host key labgen made for it: its own share of .labgen/ (drivers/up/
 * vm-share.ts), synced to /vagrant/.labgen, holds it at the lab folder's path. A double-quoted
 * shell word for common.sh, whose $node_name is the VM's name (made of constants only: no value
 * from lab.yaml goes into it).
 */
const VM_HOST_KEY = `"/vagrant/${SECRETS_DIR}/${hostKeySecret('$node_name')}"`;

/** What differs between Vagrant's VMs and hosts that exist already, in the scripts' words. */
function machineWords(lab: Lab) {
  if (!onExistingHosts(lab))
    return {
      machine: 'VM',
      runner: 'Vagrant shell provisioner',
      kubeUser: { name: 'vagrant', login: '`vagrant ssh`' },
      joinPath: "`labgen up` copies it to the workers' synced folders",
      tokenAgain: '; or vagrant provision $control_plane --provision-with control-plane',
      hostKey: VM_HOST_KEY,
    };
  const user = lab.cluster.ssh?.user ?? 'root';
  return {
    machine: 'host',
    runner: '`labgen up` over SSH',
    kubeUser: { name: user, login: `${user} on the host` },
    joinPath: '`labgen up` copies it to the workers',
    tokenAgain: `; or, as root on $control_plane: ${EXISTING_LAB_ROOT}/provision/control-plane.sh $control_plane`,
    // an existing host keeps its own SSH host key: up pins it on first contact, once confirmed
    hostKey: undefined,
  };
}

function templateData(lab: Lab) {
  const v = lab.cluster.kubernetesVersion;
  const minor = kubernetesMinor(v);
  return {
    lab,
    ...machineWords(lab),
    labRoot: labRoot(lab),
    dataDisks: dataDisks(lab),
    data: { label: DATA_LABEL, mounts: [DATA_MOUNT, ...DATA_DIRS] },
    ports: { controlPlane: firewalldPorts(lab, 'control-plane'), worker: firewalldPorts(lab, 'worker') },
    upstream: UPSTREAM,
    aptRepo: UPSTREAM.kubernetesApt(minor),
    rpmRepo: UPSTREAM.kubernetesRpm(minor),
    k8sPatch: v.split('.').length === 3 ? v : '',
    apiEndpoint: apiEndpoint(lab),
    pauseImage: pauseImage(v),
    kubernetes: minor,
    containerd: { releases: containerdReleases(v), apt: UPSTREAM.containerdApt, rpm: UPSTREAM.containerdRpm },
    dns: [...lab.network.dns, ...lab.network.upstreamDns],
    registry: lab.services.registry ? { host: registryHost(lab), caPath: containerdCaPath(lab) } : undefined,
    cniLeftovers: CNI_LEFTOVERS[lab.cluster.cni],
  };
}

/** containerd trusts the lab registry with the lab CA (never as an insecure registry). */
function registryTrust(lab: Lab): FileSpec[] {
  if (!lab.services.registry) return [];
  const path = `provision/files/etc/containerd/certs.d/${registryHost(lab)}/hosts.toml`;
  return [{ path, contents: containerdHostsToml(lab), mode: MODE.file, kind: 'vm' }];
}

const SCRIPTS = [
  'provision/common.sh',
  'provision/control-plane.sh',
  'provision/worker.sh',
  // kubeadm reset and what it leaves: node remove and reset run it (drivers/node/)
  'provision/reset.sh',
  // lab DNS the way the box's OS does it, found out on the VM (common.sh places and runs it)
  'provision/files/usr/local/sbin/labgen-lab-dns',
  // a containerd that fits this Kubernetes, configured for its major version (common.sh places and runs it)
  'provision/files/usr/local/sbin/labgen-containerd',
];
/**
 * The SSH host key labgen pinned for a host, installed for sshd: on a VM common.sh places and
 * runs it; `labgen adopt` runs the same script on a stock Pi (drivers/adopt/install.ts).
 */
export const HOST_KEY_HELPER = 'provision/files/usr/local/sbin/labgen-host-key';

/** labgen-host-key as both run it: it takes its key as an argument, nothing from lab.yaml. */
export function hostKeyHelper(): string {
  return render(HOST_KEY_HELPER, {});
}

const FILES = [
  'provision/files/etc/modules-load.d/k8s.conf',
  'provision/files/etc/sysctl.d/99-kubernetes.conf',
  // containerd 2.x's config; containerdConfigs adds 1.7's where a 1.7 fits
  'provision/files/etc/containerd/config-v3.toml',
  // labgen-lab-dns places one of these, by what the VM runs
  'provision/files/etc/systemd/resolved.conf.d/lab.conf',
  'provision/files/etc/NetworkManager/conf.d/90-labgen-dns.conf',
  'provision/files/etc/resolvconf/resolv.conf.d/head',
  'provision/files/etc/resolv.conf',
  'provision/files/etc/dhcp/dhclient-enter-hooks.d/labgen-lab-dns',
  'provision/files/etc/apt/sources.list.d/kubernetes.list',
  // the same repository for the RHEL family (common.sh places the one of the host's OS family)
  'provision/files/etc/yum.repos.d/kubernetes.repo',
];

/**
 * containerd 1.x reads only config version 2 (2.x reads both, but 3 is its own): config-v2.toml
 * is planned where a containerd 1.7 fits this Kubernetes, so labgen-containerd has it to place.
 */
function containerdConfigs(lab: Lab, data: ReturnType<typeof templateData>): FileSpec[] {
  if (!containerdReleases(lab.cluster.kubernetesVersion).some((r) => r.startsWith('1.'))) return [];
  const path = 'provision/files/etc/containerd/config-v2.toml';
  return [{ path, contents: render(path, data), mode: MODE.file, kind: 'vm' }];
}

/** Calico's operator Installation: pod CIDR from lab.yaml, node addresses from the LAN subnet. */
function calicoInstallation(lab: Lab): FileSpec {
  const installation = {
    apiVersion: 'operator.tigera.io/v1',
    kind: 'Installation',
    metadata: { name: 'default' },
    spec: {
      calicoNetwork: {
        ipPools: [{ cidr: lab.cluster.podSubnet, encapsulation: 'VXLANCrossSubnet', natOutgoing: 'Enabled', nodeSelector: 'all()' }],
        nodeAddressAutodetectionV4: { cidrs: [lab.network.subnet] },
      },
    },
  };
  return { path: 'provision/calico-installation.yaml', contents: toYaml([installation], marker('#')), mode: MODE.file, kind: 'vm' };
}

/** Where an existing host's data disk is mounted; containerd's and the kubelet's folders are bind-mounted from it. */
export const DATA_MOUNT = '/var/lib/labgen-data';
const DATA_LABEL = 'labgen-data';
const DATA_DIRS = ['/var/lib/containerd', '/var/lib/kubelet'];

/** The hosts with a data disk (provider existing), by name. */
const dataDisks = (lab: Lab) => vms(lab).flatMap((v) => (v.disk ? [{ name: v.name, disk: v.disk }] : []));

/** labgen-prepare-disk for the hosts' data disks: the storage Pi's template, one partition over the whole disk. */
function dataDiskScript(lab: Lab): FileSpec[] {
  if (!dataDisks(lab).length) return [];
  const use: DiskUse = {
    nfs: false,
    diskKey: 'the host\'s disk (cluster.controlPlane.disk, cluster.workers.hosts[].disk)',
    part: 'partition',
    owner: 'root:root',
    block: 'data',
    binds: DATA_DIRS.map((d) => `${DATA_MOUNT}/${d.split('/').pop()} ${d}`),
  };
  const contents = render(PREPARE_DISK_TEMPLATE, {
    lab,
    disk: '',
    // size 0: the rest of the disk
    exports: [{ name: DATA_LABEL, mib: 0 }],
    nfsRoot: DATA_MOUNT.slice(0, DATA_MOUNT.lastIndexOf('/')),
    rootMode: '0755',
    use,
    q: shellQuote,
  });
  return [{ path: 'provision/files/usr/local/sbin/labgen-prepare-disk', contents, mode: MODE.script, kind: 'vm' }];
}

export function planProvision(lab: Lab): FileSpec[] {
  const data = templateData(lab);
  return [
    ...SCRIPTS.map((path): FileSpec => ({ path, contents: render(path, data), mode: MODE.script, kind: 'vm' })),
    // a VM gets the host key labgen made for it; an existing host keeps its own
    ...(onExistingHosts(lab) ? [] : [{ path: HOST_KEY_HELPER, contents: hostKeyHelper(), mode: MODE.script, kind: 'vm' } as FileSpec]),
    ...FILES.map((path): FileSpec => ({ path, contents: render(path, data), mode: MODE.file, kind: 'vm' })),
    ...containerdConfigs(lab, data),
    // a block common.sh swaps into /etc/hosts, so it carries its marker inside
    { path: 'provision/files/etc/hosts.lab', contents: hostsBlock(lab), mode: MODE.file, kind: 'vm' },
    ...dataDiskScript(lab),
    ...(lab.cluster.cni === 'calico' ? [calicoInstallation(lab)] : []),
    ...registryTrust(lab),
  ];
}
