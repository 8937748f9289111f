/**
 * Every default of lab.yaml, in one place. The values are the seed 003 lab (DESIGN.md), so
 * `labgen init --yes` and a lab.yaml that leaves a key out agree.
 */
export const DEFAULTS = {
  name: 'homelab',
  domain: 'home.lab',
  network: {
    subnet: '10.0.0.0/24',
    upstreamDns: ['8.8.8.8'],
  },
  cluster: {
    provider: 'virtualbox',
    box: 'bento/ubuntu-24.04',
    bridge: 'eth0',
    kubernetesVersion: '1.34',
    cni: 'flannel',
    podSubnet: '10.244.0.0/16',
    serviceSubnet: '10.96.0.0/12',
    controlPlane: { name: 'kv-master-0', cpus: 2, memory: 4096 },
    workers: { count: 3, namePrefix: 'kv-worker-', cpus: 2, memory: 2048 },
  },
  pis: {
    os: 'bookworm',
    model: 'pi4',
    interface: 'eth0',
    user: 'pi',
    roles: ['compute'],
  },
  slurm: { partition: 'allnodes' },
} as const;

/** The address a key that is left out gets from the subnet: the gateway is its first host. */
export const GATEWAY_HOST_INDEX = 1;

import type { ParsedLab } from './schema.js';
import { intToIp, parseSubnet } from './ip.js';

/** lab.yaml with every default applied, the derived ones too. */
export type Lab = ParsedLab & {
  network: ParsedLab['network'] & { gateway: string; dns: string[] };
};

/** Defaults that depend on other fields: the gateway from the subnet, lab DNS from CoreDNS. */
export function applyDerivedDefaults(p: ParsedLab): Lab {
  const gateway = p.network.gateway ?? intToIp(parseSubnet(p.network.subnet).network + GATEWAY_HOST_INDEX);
  const coredns = p.services.coredns?.enabled ? p.services.coredns.ip : undefined;
  const dns = p.network.dns ?? [coredns ?? gateway];
  return { ...p, network: { ...p.network, gateway, dns } };
}
