import type { Lab } from '../../model/defaults.js';
import { API_HOST, type Vm, vms } from '../../model/hosts.js';
import type { FileSpec } from '../file-spec.js';
import { MODE } from '../file-spec.js';
import { marker } from '../../common/quote.js';
import { toYaml } from '../support/yaml.js';
import { API_PORT } from '../support/cluster-ports.js';
import { labRoot } from './lab-root.js';
import { SECRETS_DIR } from '../../common/layout.js';

/**
 * provision/kubeadm/<vm>.yaml: kubeadm's v1beta4 config for each VM. The control plane gets
 * Init + Cluster + Kubelet configuration; each worker a JoinConfiguration that discovers the
 * cluster through the join kubeconfig the control plane writes (`labgen up` carries it to each worker).
 */

const KUBEADM = 'kubeadm.k8s.io/v1beta4';
/** The join file, relative to the lab folder as the scripts see it: the control plane writes it, a worker reads it. */
export const JOIN_FILE = `${SECRETS_DIR}/join.kubeconfig`;
/** Where a worker finds the join file: the lab folder as its scripts see it (provision.ts labRoot). */
export const joinKubeconfig = (lab: Lab) => `${labRoot(lab)}/${JOIN_FILE}`;
const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';

export const apiEndpoint = (lab: Lab) => `${API_HOST}.${lab.domain}:${API_PORT}`;

/** "1.34" → the newest 1.34 patch (what the v1.34 apt repository installs); "1.34.2" → exactly that. */
export function kubernetesVersion(lab: Lab): string {
  const v = lab.cluster.kubernetesVersion;
  return v.split('.').length === 3 ? `v${v}` : `stable-${v}`;
}

function nodeRegistration(vm: Vm, noWorkers: boolean) {
  return {
    name: vm.name,
    criSocket: CRI_SOCKET,
    // the seed's eth1 fix: kubelet advertises the LAN address, not Vagrant's NAT one
    kubeletExtraArgs: [{ name: 'node-ip', value: vm.ip }],
    // a lab without workers runs its pods on the control plane
    ...(noWorkers ? { taints: [] } : {}),
  };
}

function controlPlaneConfig(lab: Lab, vm: Vm, noWorkers: boolean): object[] {
  return [
    {
      apiVersion: KUBEADM,
      kind: 'InitConfiguration',
      localAPIEndpoint: { advertiseAddress: vm.ip, bindPort: API_PORT },
      nodeRegistration: nodeRegistration(vm, noWorkers),
    },
    {
      apiVersion: KUBEADM,
      kind: 'ClusterConfiguration',
      clusterName: lab.name,
      kubernetesVersion: kubernetesVersion(lab),
      // a name, so changing the control plane's IP does not invalidate every certificate
      controlPlaneEndpoint: apiEndpoint(lab),
      apiServer: { certSANs: [`${API_HOST}.${lab.domain}`, vm.ip] },
      networking: { podSubnet: lab.cluster.podSubnet, serviceSubnet: lab.cluster.serviceSubnet },
    },
    { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: 'systemd' },
  ];
}

function workerConfig(lab: Lab, vm: Vm): object[] {
  return [
    {
      apiVersion: KUBEADM,
      kind: 'JoinConfiguration',
      discovery: { file: { kubeConfigPath: joinKubeconfig(lab) } },
      nodeRegistration: nodeRegistration(vm, false),
    },
  ];
}

export function planKubeadmConfig(lab: Lab): FileSpec[] {
  const all = vms(lab);
  const noWorkers = all.length === 1;
  return all.map((vm) => ({
    path: `provision/kubeadm/${vm.name}.yaml`,
    contents: toYaml(vm.role === 'control-plane' ? controlPlaneConfig(lab, vm, noWorkers) : workerConfig(lab, vm), marker('#')),
    mode: MODE.file,
    kind: 'vm',
    host: vm.name,
  }));
}
