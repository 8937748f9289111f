import type { Lab } from '../../model/defaults.js';

/**
 * The ports the cluster's hosts talk to each other on, and the one the API is served on: one
 * table for whatever lists them (the Terraform export's security group; the kubeadm config's
 * API port). Kubernetes' own from kubernetes.io "Ports and Protocols" (the scheduler's and
 * controller manager's 10259/10257 are left out: kubeadm binds them to 127.0.0.1); each CNI's
 * from its requirements: Flannel's VXLAN backend (UDP 8472, the Linux kernel's default port),
 * Calico's "Network requirements" (BGP TCP 179, VXLAN UDP 4789, Typha TCP 5473: labgen's Calico
 * runs VXLANCrossSubnet with BGP), Cilium's "System Requirements" firewall rules (VXLAN UDP 8472,
 * health checks TCP 4240 and ICMP echo).
 */

export interface ClusterPort {
  /** a name for it (the Terraform rule's name) */
  name: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  /** first and last port (none for ICMP) */
  ports?: [number, number];
  what: string;
}

/** The Kubernetes API (kubeadm's controlPlaneEndpoint, api.<domain>). */
export const API_PORT = 6443;

const KUBERNETES: ClusterPort[] = [
  { name: 'kube_apiserver', protocol: 'tcp', ports: [API_PORT, API_PORT], what: 'the Kubernetes API' },
  { name: 'etcd', protocol: 'tcp', ports: [2379, 2380], what: "etcd's clients and peers (control plane)" },
  { name: 'kubelet', protocol: 'tcp', ports: [10250, 10250], what: 'the kubelet API' },
  { name: 'kube_proxy_health', protocol: 'tcp', ports: [10256, 10256], what: "kube-proxy's health check" },
  { name: 'node_ports', protocol: 'tcp', ports: [30000, 32767], what: 'NodePort Services' },
  // MetalLB's speakers elect the node that answers for an address over memberlist
  { name: 'metallb_memberlist_tcp', protocol: 'tcp', ports: [7946, 7946], what: "MetalLB speakers' memberlist" },
  { name: 'metallb_memberlist_udp', protocol: 'udp', ports: [7946, 7946], what: "MetalLB speakers' memberlist" },
];

export const CNI_PORTS: Record<Lab['cluster']['cni'], ClusterPort[]> = {
  flannel: [{ name: 'flannel_vxlan', protocol: 'udp', ports: [8472, 8472], what: "Flannel's VXLAN overlay" }],
  calico: [
    { name: 'calico_bgp', protocol: 'tcp', ports: [179, 179], what: "Calico's BGP" },
    { name: 'calico_vxlan', protocol: 'udp', ports: [4789, 4789], what: "Calico's VXLAN overlay" },
    { name: 'calico_typha', protocol: 'tcp', ports: [5473, 5473], what: "Calico's Typha" },
  ],
  cilium: [
    { name: 'cilium_vxlan', protocol: 'udp', ports: [8472, 8472], what: "Cilium's VXLAN overlay" },
    { name: 'cilium_health', protocol: 'tcp', ports: [4240, 4240], what: "Cilium's health checks" },
    { name: 'cilium_icmp', protocol: 'icmp', what: "Cilium's health checks (ICMP echo)" },
  ],
};

/** Every port the lab's cluster uses between its hosts: Kubernetes', then its CNI's. */
export const clusterPorts = (lab: Lab): ClusterPort[] => [...KUBERNETES, ...CNI_PORTS[lab.cluster.cni]];
