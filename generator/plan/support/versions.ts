import type { KubernetesMinor } from '../../model/schema.js';

/**
 * Every upstream release labgen installs, pinned, in one place. Bump here and regenerate.
 */

/**
 * The Kubernetes minors lab.yaml accepts (schema.ts, KUBERNETES_MINORS): when each was released,
 * when it reaches end of life (no more patches, security fixes included), the pause tag its
 * kubeadm expects (kubeadm's constants.PauseVersion; containerd's sandbox image must agree or
 * kubeadm warns), and the containerd releases it is tested with. Dates are
 * kubernetes.io/releases/<minor>/ ("End Of Life Date"); a minor is supported about 14 months
 * (12 of support, 2 of maintenance mode).
 *
 * containerd: the lowest release of each containerd line that containerd's RELEASES.md
 * ("Kubernetes Support" table, containerd/containerd main as of 2026-08-22) recommends for the
 * minor, newest line first. 1.6 lines are left out: containerd 1.6 reached end of life on
 * 2025-08-23 (same file). provision/ keeps a containerd that fits (containerdFits) and installs
 * one otherwise.
 * Add the next minor here and in KUBERNETES_MINORS; drop one a while after its end of life.
 */
export const KUBERNETES_RELEASES: Record<KubernetesMinor, { released: string; endOfLife: string; pause: string; containerd: string[] }> = {
  // released: from the v1.33.0 release (not confirmed by a search here); end of life: kubernetes.io/releases/1.33/
  '1.33': { released: '2025-04-23', endOfLife: '2026-06-28', pause: '3.10', containerd: ['2.1.0', '2.0.4', '1.7.24'] },
  // released: from the v1.34.0 release (not confirmed by a search here); end of life: kubernetes.io/releases/1.34/
  '1.34': { released: '2025-08-27', endOfLife: '2026-10-27', pause: '3.10.1', containerd: ['2.1.3', '2.0.6', '1.7.28'] },
  '1.35': { released: '2025-12-17', endOfLife: '2027-02-28', pause: '3.10.1', containerd: ['2.2.0', '2.1.5', '1.7.28'] },
  '1.36': { released: '2026-04-22', endOfLife: '2027-06-28', pause: '3.10.2', containerd: ['2.3.0', '2.2.0'] },
  // pause 3.10.2: what kubeadm v1.37.0-rc.0 lists (`kubeadm config images list`, recorded in kubernetes/minikube
  // pkg/minikube/constants/constants_kubeadm_images.go); the same table confirms 3.10 / 3.10.1 / 3.10.1 / 3.10.2 above
  // containerd: as for 1.36, RELEASES.md has no 1.37 row yet (containerd main as of 2026-08-22)
  '1.37': { released: '2026-08-26', endOfLife: '2027-10-28', pause: '3.10.2', containerd: ['2.3.0', '2.2.0'] },
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

/** The lowest containerd of each containerd line recommended for this Kubernetes version, newest line first. */
export const containerdReleases = (version: string): string[] => release(version).containerd;

const numbers = (v: string) => v.split('.').map(Number) as [number, number, number];

/**
 * Whether containerd `installed` (X.Y.Z) fits this Kubernetes version: on a recommended line at
 * or above its minimum, or on a line newer than any the table names (containerd's table gains a
 * line only after it was tested; a newer one still serves the same CRI v1). provision/'s
 * labgen-containerd decides the same way, in bash; tests hold the two together.
 */
export function containerdFits(version: string, installed: string): boolean {
  const [x, y, z] = numbers(installed);
  const lines = containerdReleases(version).map(numbers);
  const same = lines.find(([lx, ly]) => lx === x && ly === y);
  if (same) return z >= same[2];
  return lines.every(([lx, ly]) => x > lx || (x === lx && y > ly));
}

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
  /** the same repository for the RHEL family (rpm), as kubeadm's install guide names it; its key is repodata/repomd.xml.key */
  kubernetesRpm: (minor: string) => `https://pkgs.k8s.io/core:/stable:/v${minor}/rpm/`,
  /**
   * Where provision/ gets a containerd when the box's own does not fit (KUBERNETES_RELEASES):
   * Docker's apt repository, `<base>/<debian|ubuntu>` with the release's codename and component
   * stable, package containerd.io: containerd's own docs/getting-started.md ("Option 2: From
   * apt-get") names it for Debian and Ubuntu; runc is inside it. Its signing key, checked on
   * download, is the one docs.docker.com's install pages name (docker/docs
   * engine/install/debian.md, "Key fingerprint").
   */
  containerdApt: {
    base: 'https://download.docker.com/linux',
    package: 'containerd.io',
    keyFingerprint: '9DC858229FC7DD38854AE2D88D81803C0EBFCD88',
  },
  /**
   * The RHEL family's containerd.io: Docker's rpm repository `<base>/centos/$releasever/$basearch/stable`,
   * signed with the key docs.docker.com's RHEL and CentOS install pages name (engine/install/rhel.md:
   * "verify that the fingerprint matches 060A 61C5 …").
   */
  containerdRpm: { keyFingerprint: '060A61C51B558A7F742B77AAC52FEB6B621E9F35' },
  flannel: {
    version: 'v0.27.4',
    manifest: 'https://github.com/flannel-io/flannel/releases/download/v0.27.4/kube-flannel.yml',
  },
  // Calico v3.32.1 (2026-06-24), the newest minor: release-notes/v3.32.0-release-notes.md and
  // v3.32.1-release-notes.md in projectcalico/calico at that tag; its breaking changes (the tigera-operator
  // Helm chart without CRDs, AdminNetworkPolicy removed) touch nothing labgen uses. At v3.32.1
  // manifests/operator-crds.yaml and manifests/tigera-operator.yaml both exist, and operator-crds.yaml
  // holds installations.operator.tigera.io with every Installation field calico-installation.yaml sets.
  calico: {
    version: 'v3.32.1',
    /** since v3.30 the operator's CRDs (Installation, …) are their own manifest, created before the operator */
    operatorCrds: 'https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/operator-crds.yaml',
    operator: 'https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/tigera-operator.yaml',
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
  /**
   * Standard channel only: Traefik serves it, and nothing else installs a second copy. The version
   * is the one Traefik's release (images.traefik) names: Traefik v3.7's "Kubernetes Gateway API"
   * provider page (docs/content/reference/install-configuration/providers/kubernetes/kubernetes-gateway.md
   * at traefik/traefik v3.7.x: "supports Standard version v1.5.1") and its v3.7.0 migration notes
   * (docs/content/migrate/v3.md); Traefik v3.8 requires v1.6.1 and no longer supports v1.5.x
   * (doc.traefik.io/traefik/v3.8/migrate/v3/): move both together. A cluster that already got
   * v1.6.1 has its safe-upgrades.gateway.networking.k8s.io ValidatingAdmissionPolicy, which
   * refuses v1.5.x CRDs: k8s/apply.sh deletes that policy when it finds a newer bundle installed.
   */
  gatewayApi: {
    version: 'v1.5.1',
    manifest: 'https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml',
  },
  // cert-manager v1.21.1 (2026-07-29): github.com/cert-manager/cert-manager/releases/tag/v1.21.1 ("all users
  // should upgrade"); 1.21's breaking changes are Helm chart values only (cert-manager.io/docs/releases/
  // upgrading/upgrading-1.20-1.21/), and labgen applies the static manifest.
  certManager: {
    version: 'v1.21.1',
    manifest: 'https://github.com/cert-manager/cert-manager/releases/download/v1.21.1/cert-manager.yaml',
  },
  /** every container image k8s/ runs, by full name and pinned tag (tests reject `latest`) */
  images: {
    coredns: 'registry.k8s.io/coredns/coredns:v1.12.1',
    /** v3.7.11 (2026-08-19, traefik/traefik-library-image "v3.7.11"): Gateway API v1.5.1, see gatewayApi */
    traefik: 'docker.io/library/traefik:v3.7.11',
    /** v0.45.0 (2026-08-21, kubernetes-sigs/headlamp tag v0.45.0): its chart still runs -in-cluster, -plugins-dir, port 4466 */
    headlamp: 'ghcr.io/headlamp-k8s/headlamp:v0.45.0',
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
    /**
     * `labgen check multicast`'s sender and receiver: Python's socket module joins a group and
     * sends to it with nothing installed (the official image, multi-arch; tag from
     * docker-library/official-images library/python: 3.13.9-alpine3.22, the small variant)
     */
    multicastCheck: 'docker.io/library/python:3.13.9-alpine3.22',
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
