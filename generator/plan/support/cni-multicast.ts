import type { Lab } from '../../model/defaults.js';

/**
 * Whether each CNI labgen offers carries multicast between pods, as its upstream says; the lab
 * guide and `labgen check multicast` both tell it from here.
 * - Flannel: no. Its VXLAN backend forwards unicast only (flannel-io/flannel#179, closed "no
 *   plans"; #1077). Pods on one node share the cni0 bridge, so multicast reaches them there.
 * - Calico: no. Its routed design carries unicast and anycast; multicast "is not supported"
 *   (Calico's FAQ, projectcalico/calico#4055; docs "OpenStack semantics").
 * - Cilium: only when turned on: a beta feature of its VXLAN mode (docs.cilium.io "Multicast
 *   Support in Cilium (Beta)", kernel 5.10+ on amd64, 6.0+ on arm64): `cilium config set
 *   multicast-enabled true`, then each group and its subscribers added on every node with
 *   `cilium-dbg bpf multicast group add` / `subscriber add`. labgen installs Cilium without it.
 */
export const CNI_MULTICAST: Record<Lab['cluster']['cni'], { between: 'no' | 'opt-in'; note: string }> = {
  flannel: { between: 'no', note: 'Flannel does not carry multicast between nodes (its VXLAN backend is unicast); pods on one node reach each other over its bridge' },
  calico: { between: 'no', note: 'Calico does not support multicast (routed, unicast and anycast only)' },
  cilium: {
    between: 'opt-in',
    note: 'Cilium carries multicast only once turned on (beta, VXLAN mode): `cilium config set multicast-enabled true`, then the group and its subscribers on each node with `cilium-dbg bpf multicast group add` / `subscriber add`',
  },
};
