import type { KubernetesMinor } from '../../model/schema.js';

/**
 * Every upstream release labgen installs, pinned, in one place. Bump here and regenerate.
 */

/**
 * The Kubernetes minors lab.yaml accepts (schema.ts, KUBERNETES_MINORS): when each was released,
 * when it reaches end of life (no more patches, security fixes included), and the pause tag its
 * kubeadm expects (kubeadm's constants.PauseVersion; containerd's sandbox image must agree or
 * kubeadm warns). Dates are kubernetes.io/releases/<minor>/ ("End Of Life Date"); a minor is
 * supported about 14 months (12 of support, 2 of maintenance mode).
 * Add the next minor here and in KUBERNETES_MINORS; drop one a while after its end of life.
 */
export const KUBERNETES_RELEASES: Record<KubernetesMinor, { released: string; endOfLife: string; pause: string }> = {
  // released: from the v1.33.0 release (not confirmed by a search here); end of life: kubernetes.io/releases/1.33/
  '1.33': { released: '2025-04-23', endOfLife: '2026-06-28', pause: '3.10' },
  // released: from the v1.34.0 release (not confirmed by a search here); end of life: kubernetes.io/releases/1.34/
  '1.34': { released: '2025-08-27', endOfLife: '2026-10-27', pause: '3.10.1' },
  '1.35': { released: '2025-12-17', endOfLife: '2027-02-28', pause: '3.10.1' },
  '1.36': { released: '2026-04-22', endOfLife: '2027-06-28', pause: '3.10.2' },
  // pause: 3.10.2 as for 1.36 (no 1.37 kubeadm constants.go was found to confirm a later bump)
  '1.37': { released: '2026-08-26', endOfLife: '2027-10-28', pause: '3.10.2' },
};

/** "1.37" or "1.37.1" → "1.37" */
export const kubernetesMinor = (version: string): string => version.split('.').slice(0, 2).join('.');

function release(version: string) {
  const minor = kubernetesMinor(version);
  const r = (KUBERNETES_RELEASES as Record<string, (typeof KUBERNETES_RELEASES)[KubernetesMinor] | undefined>)[minor];
  if (!r) throw new Error(`no release entry for Kubernetes ${minor} in KUBERNETES_RELEASES`);
  return r;
}

/** The sandbox image the kubeadm of this Kubernetes version expects. */
export const pauseImage = (version: string): string => `registry.k8s.io/pause:${release(version).pause}`;

/** A date as YYYY-MM-DD in local time (what the user's calendar says today). */
const isoDay = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** The minors still supported on `today`, oldest first. */
export function supportedMinors(today: Date): string[] {
  const day = isoDay(today);
  return Object.entries(KUBERNETES_RELEASES)
    .filter(([, r]) => r.released <= day && day < r.endOfLife)
    .map(([minor]) => minor);
}

/**
 * A warning when `version` has reached end of life by `today`, naming the date and a supported
 * release; undefined while it is supported. Pure: the CLI passes today (the plan knows no clock).
 */
export function eolWarning(version: string, today: Date): string | undefined {
  const { endOfLife } = release(version);
  if (isoDay(today) < endOfLife) return undefined;
  const newest = supportedMinors(today).at(-1);
  return (
    `cluster.kubernetesVersion ${version}: Kubernetes ${kubernetesMinor(version)} reached end of life on ${endOfLife} (no more security fixes); ` +
    (newest ? `pin a supported release, e.g. "${newest}"` : 'pin a supported release (a newer labgen knows them)')
  );
}

export const UPSTREAM = {
  /** apt repository of kubeadm/kubelet/kubectl, one per minor version */
  kubernetesApt: (minor: string) => `https://pkgs.k8s.io/core:/stable:/v${minor}/deb/`,
  flannel: {
    version: 'v0.27.4',
    manifest: 'https://github.com/flannel-io/flannel/releases/download/v0.27.4/kube-flannel.yml',
  },
  calico: {
    version: 'v3.31.0',
    /** since v3.30 the operator's CRDs (Installation, …) are their own manifest, created before the operator */
    operatorCrds: 'https://raw.githubusercontent.com/projectcalico/calico/v3.31.0/manifests/operator-crds.yaml',
    operator: 'https://raw.githubusercontent.com/projectcalico/calico/v3.31.0/manifests/tigera-operator.yaml',
  },
  cilium: {
    version: '1.18.3',
    cli: 'v0.18.7',
    cliTarball: (arch: string) => `https://github.com/cilium/cilium-cli/releases/download/v0.18.7/cilium-linux-${arch}.tar.gz`,
  },
  // the sandbox image (pause) is per Kubernetes minor: pauseImage(version), from KUBERNETES_RELEASES

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
