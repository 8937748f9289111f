import type { Lab } from '../../model/defaults.js';

/**
 * The ports a cluster's nodes must reach each other on: one table for every firewall labgen
 * makes or hands on (provision/common.sh opens them with firewall-cmd on the RHEL family; an
 * export for a cloud's security groups reads the same rows). From Kubernetes' "Ports and
 * Protocols" page and each CNI's own network requirements:
 *   Flannel   VXLAN, the kernel's default port 8472/udp (its vxlan backend)
 *   Calico    BGP 179/tcp, VXLAN 4789/udp (the Installation's VXLANCrossSubnet pool), Typha
 *             5473/tcp (the operator always runs Typha)
 *   Cilium    VXLAN 8472/udp (its default tunnel), health checks 4240/tcp
 */

export type Cni = Lab['cluster']['cni'];
export type PortRole = 'control-plane' | 'worker';

export interface ClusterPort {
  /** a port, or a range FIRST-LAST */
  port: string;
  protocol: 'tcp' | 'udp';
  /** the nodes that listen on it (every node when both) */
  on: readonly PortRole[];
  /** who it is for, for comments and reports */
  why: string;
}

const BOTH: readonly PortRole[] = ['control-plane', 'worker'];

const KUBERNETES: readonly ClusterPort[] = [
  { port: '6443', protocol: 'tcp', on: ['control-plane'], why: 'Kubernetes API server' },
  { port: '2379-2380', protocol: 'tcp', on: ['control-plane'], why: 'etcd server client API' },
  { port: '10250', protocol: 'tcp', on: BOTH, why: 'kubelet API' },
  { port: '10256', protocol: 'tcp', on: BOTH, why: 'kube-proxy health check' },
  { port: '10257', protocol: 'tcp', on: ['control-plane'], why: 'kube-controller-manager' },
  { port: '10259', protocol: 'tcp', on: ['control-plane'], why: 'kube-scheduler' },
  { port: '30000-32767', protocol: 'tcp', on: BOTH, why: 'NodePort Services' },
];

const CNI_PORTS: Record<Cni, readonly ClusterPort[]> = {
  flannel: [{ port: '8472', protocol: 'udp', on: BOTH, why: 'Flannel VXLAN' }],
  calico: [
    { port: '179', protocol: 'tcp', on: BOTH, why: 'Calico BGP' },
    { port: '4789', protocol: 'udp', on: BOTH, why: 'Calico VXLAN' },
    { port: '5473', protocol: 'tcp', on: BOTH, why: 'Calico Typha' },
  ],
  cilium: [
    { port: '8472', protocol: 'udp', on: BOTH, why: 'Cilium VXLAN' },
    { port: '4240', protocol: 'tcp', on: BOTH, why: 'Cilium health checks' },
  ],
};

/** Every port of the cluster with this CNI: Kubernetes' own, then the CNI's. */
export function clusterPorts(cni: Cni): ClusterPort[] {
  return [...KUBERNETES, ...CNI_PORTS[cni]];
}

/** The ports a node of `role` opens, as firewall-cmd names them (`6443/tcp`). */
export function portsOf(cni: Cni, role: PortRole): string[] {
  return clusterPorts(cni)
    .filter((p) => p.on.includes(role))
    .map((p) => `${p.port}/${p.protocol}`);
}
