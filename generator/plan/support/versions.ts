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

  // k8s/ (issue #4). Upstream installs that bring CRDs and webhooks are applied by
  // k8s/apply.sh from these pinned URLs before the offline kustomize build (see k8s/index.ts).
  metallb: {
    version: 'v0.16.1',
    manifest: 'https://raw.githubusercontent.com/metallb/metallb/v0.16.1/config/manifests/metallb-native.yaml',
  },
  /** standard channel only: Traefik serves it, and nothing else installs a second copy */
  gatewayApi: {
    version: 'v1.6.1',
    manifest: 'https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.1/standard-install.yaml',
  },
  certManager: {
    version: 'v1.20.2',
    manifest: 'https://github.com/cert-manager/cert-manager/releases/download/v1.20.2/cert-manager.yaml',
  },
  /** every container image k8s/ runs, by full name and pinned tag (tests reject `latest`) */
  images: {
    coredns: 'registry.k8s.io/coredns/coredns:v1.12.1',
    traefik: 'docker.io/library/traefik:v3.7.13',
    headlamp: 'ghcr.io/headlamp-k8s/headlamp:v0.43.0',
    registry: 'docker.io/library/registry:3.0.0',
    registryUi: 'docker.io/joxit/docker-registry-ui:2.5.7',
    chartmuseum: 'ghcr.io/helm/chartmuseum:v0.16.3',
    nfsProvisioner: 'registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2',
    prometheus: 'quay.io/prometheus/prometheus:v3.5.3',
    pushgateway: 'quay.io/prometheus/pushgateway:v1.11.3',
    grafana: 'docker.io/grafana/grafana:12.3.1',
    elasticsearch: 'docker.elastic.co/elasticsearch/elasticsearch:8.19.14',
    kibana: 'docker.elastic.co/kibana/kibana:8.19.14',
    fluentBit: 'cr.fluentbit.io/fluent/fluent-bit:4.2.2',
    /** atmoz/sftp publishes no version tags; linuxserver's image does */
    sftp: 'lscr.io/linuxserver/openssh-server:10.3_p1-r1-ls238',
    /** dnsmasq as a TFTP-only server: --tftp-single-port works through kube-proxy's NAT */
    tftp: 'docker.io/4km3/dnsmasq:2.90-r3',
  },
  /**
   * Base of the in-cluster slurmctld image, per Pi OS release: slurmctld comes from the same
   * Debian release as the Pis' slurmd (bullseye 20.11, bookworm 22.05, trixie 24.11).
   */
  debianImage: {
    bullseye: 'docker.io/library/debian:11.11-slim',
    bookworm: 'docker.io/library/debian:12.11-slim',
    trixie: 'docker.io/library/debian:13.5-slim',
  },
} as const;
