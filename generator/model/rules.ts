import type { Lab } from './defaults.js';
import { type Address, API_HOST, gatewayAliases, nodeAddresses, serviceAddresses } from './hosts.js';
import { inRange, intToIp, ipToInt, overlaps, parseRange, parseSubnet, type Range, rangeText } from './ip.js';

/**
 * Cross-field rules of lab.yaml. Each returns every problem it finds as `path: message`,
 * so one run of labgen lists all of them at once.
 */
type Rule = (lab: Lab) => string[];

const subnetOf = (lab: Lab) => parseSubnet(lab.network.subnet);

const pool = (lab: Lab): Range[] =>
  lab.services.metallb?.enabled ? lab.services.metallb.addresses.map((a) => parseRange(a)!) : [];

const dhcp = (lab: Lab): Range | undefined => (lab.network.dhcpRange ? parseRange(lab.network.dhcpRange) : undefined);

/** `pis.nodes[1] (node02)`: where an address is set and whose it is, as messages name it. */
const describe = (a: Address) => (a.kind === 'gateway' ? a.path : `${a.path.replace(/\.ip$/, '')} (${a.name})`);

const SUBNETS = [
  ['network.subnet', (lab: Lab) => lab.network.subnet],
  ['cluster.podSubnet', (lab: Lab) => lab.cluster.podSubnet],
  ['cluster.serviceSubnet', (lab: Lab) => lab.cluster.serviceSubnet],
] as const;

const subnetsWellFormed: Rule = (lab) =>
  SUBNETS.flatMap(([path, get]) => {
    const cidr = get(lab);
    const s = parseSubnet(cidr);
    return ipToInt(cidr.split('/')[0]!) === s.network ? [] : [`${path}: ${cidr} is not a network address; did you mean ${intToIp(s.network)}/${s.prefix}?`];
  });

/** kubeadm's own limits: a service subnet of at most /12, a pod subnet that fits one /24 per node. */
const clusterSubnetSizes: Rule = (lab) => {
  const problems: string[] = [];
  const svc = parseSubnet(lab.cluster.serviceSubnet).prefix;
  const pod = parseSubnet(lab.cluster.podSubnet).prefix;
  if (svc < 12) problems.push(`cluster.serviceSubnet: ${lab.cluster.serviceSubnet} is too large; kubeadm accepts at most a /12`);
  if (pod > 24) problems.push(`cluster.podSubnet: ${lab.cluster.podSubnet} is too small; each node takes a /24 of it, so it must be /24 or larger`);
  return problems;
};

const insideSubnet: Rule = (lab) => {
  const s = subnetOf(lab);
  const all = [...nodeAddresses(lab), ...serviceAddresses(lab)];
  const problems = all
    .filter((a) => !inRange(ipToInt(a.ip), s))
    .map((a) => `${a.path}: ${a.ip} is outside network.subnet ${lab.network.subnet}${ipToInt(a.ip) === s.network || ipToInt(a.ip) === s.broadcast ? ' (network or broadcast address)' : ''}`);
  const range = dhcp(lab);
  if (range && !(inRange(range.first, s) && inRange(range.last, s)))
    problems.push(`network.dhcpRange: ${lab.network.dhcpRange} is not inside network.subnet ${lab.network.subnet}`);
  pool(lab).forEach((r, i) => {
    if (!(inRange(r.first, s) && inRange(r.last, s)))
      problems.push(`services.metallb.addresses[${i}]: ${rangeText(r)} is not inside network.subnet ${lab.network.subnet}`);
  });
  return problems;
};

const workerRunFits: Rule = (lab) => {
  const w = lab.cluster.workers;
  if (w.count === 0) return [];
  if (!w.firstIp) return [`cluster.workers.firstIp: required when cluster.workers.count is ${w.count}`];
  const last = ipToInt(w.firstIp) + w.count - 1;
  const s = subnetOf(lab);
  return inRange(ipToInt(w.firstIp), s) && !inRange(last, s)
    ? [`cluster.workers: ${w.count} workers from ${w.firstIp} run to ${intToIp(last)}, past the end of network.subnet ${lab.network.subnet}`]
    : [];
};

/** No address twice: gateway, VMs, Pis and service IPs share one namespace. */
const uniqueIps: Rule = (lab) => {
  const seen = new Map<string, Address>();
  const problems: string[] = [];
  for (const a of [...nodeAddresses(lab), ...serviceAddresses(lab)]) {
    const first = seen.get(a.ip);
    if (first) problems.push(`${a.path}: ${a.ip} is already used by ${describe(first)}`);
    else seen.set(a.ip, a);
  }
  return problems;
};

/**
 * No host name twice: VMs, Pis, the API name and service names all live in the lab domain.
 * labgen's own names (the API, services) are claimed first, so a clash names the node to rename.
 */
const uniqueNames: Rule = (lab) => {
  const reserved = [{ name: API_HOST, path: `the Kubernetes API (${API_HOST}.${lab.domain})` }, ...serviceAddresses(lab), ...gatewayAliases(lab)];
  const nodes = nodeAddresses(lab)
    .filter((a) => a.kind !== 'gateway')
    .map((a) => ({ name: a.name, path: a.path.replace(/\.ip$/, '.name').replace(/^cluster\.workers\.firstIp.*/, 'cluster.workers.namePrefix') }));
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const a of [...reserved, ...nodes]) {
    const first = seen.get(a.name);
    if (first) problems.push(`${a.path}: name "${a.name}" is already used by ${first}`);
    else seen.set(a.name, a.path);
  }
  return problems;
};

const vmNamesValid: Rule = (lab) => {
  const w = lab.cluster.workers;
  const longest = `${w.namePrefix}${Math.max(0, w.count - 1)}`;
  return w.count > 0 && longest.length > 63 ? [`cluster.workers.namePrefix: "${longest}" is not an RFC 1123 name (over 63 characters)`] : [];
};

/** MetalLB hands out pool addresses: nothing static may sit in the pool, nor the DHCP range. */
const poolClear: Rule = (lab) => {
  const ranges = pool(lab);
  const problems: string[] = [];
  ranges.forEach((r, i) => {
    for (const a of nodeAddresses(lab))
      if (inRange(ipToInt(a.ip), r))
        problems.push(`services.metallb.addresses[${i}]: ${rangeText(r)} contains ${a.ip} of ${describe(a)}`);
    const d = dhcp(lab);
    if (d && overlaps(r, d))
      problems.push(`services.metallb.addresses[${i}]: ${rangeText(r)} overlaps network.dhcpRange ${lab.network.dhcpRange}`);
    ranges.slice(i + 1).forEach((o, j) => {
      if (overlaps(r, o)) problems.push(`services.metallb.addresses[${i + j + 1}]: ${rangeText(o)} overlaps services.metallb.addresses[${i}]`);
    });
  });
  return problems;
};

const dhcpClear: Rule = (lab) => {
  const d = dhcp(lab);
  if (!d) return [];
  return nodeAddresses(lab)
    .filter((a) => inRange(ipToInt(a.ip), d))
    .map((a) => `${a.path}: ${a.ip} is inside network.dhcpRange ${lab.network.dhcpRange}; a static address there can be handed to another host`);
};

/** Every service IP is a LoadBalancer IP, so it must come from the MetalLB pool. */
const servicesInPool: Rule = (lab) => {
  const services = serviceAddresses(lab);
  if (services.length === 0) return [];
  const ranges = pool(lab);
  if (ranges.length === 0)
    return [`services.metallb: required (and enabled) because ${services[0]!.path} asks for a LoadBalancer IP`];
  return services
    .filter((a) => !ranges.some((r) => inRange(ipToInt(a.ip), r)))
    .map((a) => `${a.path}: ${a.ip} is not in the MetalLB pool ${lab.services.metallb!.addresses.join(', ')}`);
};

const clusterSubnetsClear: Rule = (lab) => {
  const lan = subnetOf(lab);
  const pod = parseSubnet(lab.cluster.podSubnet);
  const svc = parseSubnet(lab.cluster.serviceSubnet);
  const problems: string[] = [];
  if (overlaps(pod, lan)) problems.push(`cluster.podSubnet: ${lab.cluster.podSubnet} overlaps the LAN network.subnet ${lab.network.subnet}`);
  if (overlaps(svc, lan)) problems.push(`cluster.serviceSubnet: ${lab.cluster.serviceSubnet} overlaps the LAN network.subnet ${lab.network.subnet}`);
  if (overlaps(pod, svc)) problems.push(`cluster.serviceSubnet: ${lab.cluster.serviceSubnet} overlaps cluster.podSubnet ${lab.cluster.podSubnet}`);
  return problems;
};

const roles: Rule = (lab) => {
  const withRole = (role: string) => lab.pis.nodes.flatMap((n, i) => (n.roles.includes(role as never) ? [{ n, i }] : []));
  const storage = withRole('storage');
  const aptcache = withRole('aptcache');
  const problems: string[] = [];
  if (lab.storage && storage.length !== 1)
    problems.push(`storage: needs exactly one Pi with role storage, found ${storage.length}${storage.length ? ` (${storage.map((s) => s.n.name).join(', ')})` : ''}`);
  if (!lab.storage) for (const s of storage) problems.push(`pis.nodes[${s.i}].roles: ${s.n.name} has role storage but there is no storage section`);
  if (aptcache.length > 1)
    problems.push(`pis.nodes[${aptcache[1]!.i}].roles: at most one Pi may have role aptcache; ${aptcache.map((a) => a.n.name).join(' and ')} both do`);
  lab.pis.nodes.forEach((n, i) => {
    const dup = n.roles.find((r, j) => n.roles.indexOf(r) !== j);
    if (dup) problems.push(`pis.nodes[${i}].roles: role ${dup} is listed twice`);
  });
  const exportNames = lab.storage?.exports.map((e) => e.name) ?? [];
  exportNames.forEach((e, i) => {
    if (exportNames.indexOf(e) !== i) problems.push(`storage.exports[${i}].name: export "${e}" is listed twice`);
  });
  return problems;
};

const slurm: Rule = (lab) => {
  if (!lab.slurm) return [];
  const pis = new Set(lab.pis.nodes.map((n) => n.name));
  const problems: string[] = [];
  const { controller, ip, nodes } = lab.slurm;
  if (controller === 'k8s' && !ip) problems.push('slurm.ip: required when slurm.controller is k8s (the LoadBalancer IP the Pis reach slurmctld at)');
  if (controller !== 'k8s' && !pis.has(controller)) problems.push(`slurm.controller: "${controller}" is neither k8s nor the name of a Pi in pis.nodes`);
  if (controller !== 'k8s' && ip) problems.push('slurm.ip: only used when slurm.controller is k8s; a Pi controller is reached at its own IP');
  const roles = new Map(lab.pis.nodes.map((p) => [p.name, p.roles]));
  nodes.forEach((n, i) => {
    if (!pis.has(n)) problems.push(`slurm.nodes[${i}]: "${n}" is not the name of a Pi in pis.nodes`);
    else if (!roles.get(n)!.includes('compute')) problems.push(`slurm.nodes[${i}]: "${n}" runs Slurm jobs, so it needs role compute (roles: ${roles.get(n)!.join(', ')})`);
    if (nodes.indexOf(n) !== i) problems.push(`slurm.nodes[${i}]: "${n}" is listed twice`);
  });
  return problems;
};

/** Services that only work with another one. */
const serviceNeeds: Rule = (lab) => {
  const s = lab.services;
  const problems: string[] = [];
  if (s.registry && !s.certManager)
    problems.push('services.registry: needs services.certManager, which issues its TLS certificate from the lab CA (containerd never trusts an insecure registry)');
  if (lab.slurm?.controller === 'k8s' && !s.registry)
    problems.push('slurm.controller: k8s needs services.registry, where the slurmctld image is built and pushed (or make a Pi the controller)');
  return problems;
};

const RULES: Rule[] = [
  subnetsWellFormed,
  clusterSubnetSizes,
  insideSubnet,
  workerRunFits,
  vmNamesValid,
  uniqueIps,
  uniqueNames,
  poolClear,
  dhcpClear,
  servicesInPool,
  clusterSubnetsClear,
  roles,
  slurm,
  serviceNeeds,
];

/** Every cross-field problem of the lab, in rule order. */
export function checkRules(lab: Lab): string[] {
  return RULES.flatMap((rule) => rule(lab));
}
