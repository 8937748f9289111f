import type { ParsedLab } from './schema.js';
import { intToIp, parseSubnet } from './ip.js';
import { GATEWAY_HOST_INDEX } from './seed.js';

/**
 * lab.yaml once loaded: the Lab type and the defaults that depend on other fields. The plain
 * defaults, one per key, are DEFAULTS (seed.ts), which the schema applies.
 */

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
