import type { Lab } from '../../model/defaults.js';
import { NS } from './common.js';
import type { IPAddressPool, L2Advertisement } from './crd-types.js';
import type { Folder } from './folder.js';

/**
 * k8s/metallb/: the address pool of services.metallb.addresses, announced on the LAN by ARP
 * (layer 2: the Pi LAN is one switch). MetalLB itself (v0.16 native manifest: CRDs, controller,
 * speaker, webhook) is installed by k8s/apply.sh from its pinned URL first: the webhook must be
 * up before an IPAddressPool is accepted. Every LoadBalancer Service of k8s/ asks for its
 * lab.yaml address with the metallb.io/loadBalancerIPs annotation.
 */

export const POOL = 'lab';

export function metallbFolder(lab: Lab): Folder | undefined {
  const metallb = lab.services.metallb;
  if (!metallb) return undefined;
  const pool: IPAddressPool = {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: POOL, namespace: NS.metallb },
    spec: { addresses: [...metallb.addresses] },
  };
  const l2: L2Advertisement = {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: POOL, namespace: NS.metallb },
    spec: { ipAddressPools: [POOL] },
  };
  return {
    dir: 'metallb',
    resources: { 'address-pool.yaml': [pool, l2] },
    about: `MetalLB: LoadBalancer IPs from services.metallb.addresses, announced by ARP (L2).
MetalLB itself is installed from its pinned upstream manifest by ../apply.sh.`,
  };
}
