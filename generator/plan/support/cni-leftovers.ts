import type { Lab } from '../../model/defaults.js';

/**
 * What each CNI leaves on a host that `kubeadm reset` does not remove (kubeadm says so itself:
 * "The reset process does not clean CNI configuration"): the config file(s) its DaemonSet wrote
 * into /etc/cni/net.d and the links it made. provision/reset.sh removes exactly these, never
 * the whole folder (an existing host may hold another runtime's CNI config there, e.g. podman's).
 * - Flannel: its kube-flannel.yml installs cni-conf.json as 10-flannel.conflist; the VXLAN link
 *   flannel.1 and the bridge cni0.
 * - Calico: 10-calico.conflist and calico-kubeconfig (calico-node's install-cni); the VXLAN link
 *   vxlan.calico (the Installation labgen writes uses VXLANCrossSubnet).
 * - Cilium: 05-cilium.conflist (its agent's cni-install); cilium_host with its pair cilium_net,
 *   and cilium_vxlan.
 */
export const CNI_LEFTOVERS: Record<Lab['cluster']['cni'], { files: string[]; links: string[] }> = {
  flannel: { files: ['/etc/cni/net.d/10-flannel.conflist'], links: ['flannel.1', 'cni0'] },
  calico: { files: ['/etc/cni/net.d/10-calico.conflist', '/etc/cni/net.d/calico-kubeconfig'], links: ['vxlan.calico'] },
  cilium: { files: ['/etc/cni/net.d/05-cilium.conflist'], links: ['cilium_host', 'cilium_vxlan'] },
};
