/**
 * Every upstream release labgen installs, pinned, in one place. Bump here and regenerate.
 */
export const UPSTREAM = {
  /** apt repository of kubeadm/kubelet/kubectl, one per minor version */
  kubernetesApt: (minor: string) => `https://pkgs.k8s.io/core:/stable:/v${minor}/deb/`,
  flannel: {
    version: 'v0.27.4',
    manifest: 'https://github.com/flannel-io/flannel/releases/download/v0.27.4/kube-flannel.yml',
  },
  calico: {
    version: 'v3.31.0',
    operator: 'https://raw.githubusercontent.com/projectcalico/calico/v3.31.0/manifests/tigera-operator.yaml',
  },
  cilium: {
    version: '1.18.3',
    cli: 'v0.18.7',
    cliTarball: (arch: string) => `https://github.com/cilium/cilium-cli/releases/download/v0.18.7/cilium-linux-${arch}.tar.gz`,
  },
  /** the sandbox image kubeadm 1.34 expects; containerd must agree or kubeadm warns */
  pauseImage: 'registry.k8s.io/pause:3.10.1',
} as const;
