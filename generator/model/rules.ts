import type { Lab } from './defaults.js';
import { type Address, API_HOST, gatewayAliases, nodeAddresses, onExistingHosts, serviceAddresses } from './hosts.js';
import { PROVIDER_KEYS_DOC } from './provider-keys.js';
import { inRange, intToIp, ipToInt, overlaps, parseRange, parseSubnet, type Range, rangeText } from './ip.js';
import { SERVICE_KEYS, serviceSpec } from './services.js';
import { newestRelease, oldestSlurmFor, type PiRelease, SLURM_OF_RELEASE, slurmFit } from './slurm-releases.js';

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
  // existing hosts are listed one by one (workers.hosts), not counted
  if (w.count === 0 || onExistingHosts(lab)) return [];
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
  return !onExistingHosts(lab) && w.count > 0 && longest.length > 63 ? [`cluster.workers.namePrefix: "${longest}" is not an RFC 1123 name (over 63 characters)`] : [];
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
  return [...problems, ...slurmReleases(lab)];
};

/**
 * Every slurmd within reach of slurmctld's Slurm (slurm-releases.ts): each Pi runs the Slurm of its
 * release, so a lab mixing releases may hold two Slurms that cannot talk; its nodes would never
 * register (and trixie's slurmd, which waits for its config, fails to start after systemd's timeout).
 * slurmctld in k8s is built from the newest release of the nodes (plan/k8s/slurm-image.ts).
 */
function slurmReleases(lab: Lab): string[] {
  const { controller, nodes } = lab.slurm!;
  const releaseOf = new Map(lab.pis.nodes.map((p) => [p.name, (p.os ?? lab.pis.os) as PiRelease]));
  const known = nodes.filter((n) => releaseOf.has(n));
  let ctl: PiRelease | undefined;
  let who: string;
  if (controller === 'k8s') {
    ctl = newestRelease(known.map((n) => releaseOf.get(n)!));
    who = `slurmctld in k8s (built from ${ctl}, the newest release of slurm.nodes)`;
  } else {
    ctl = releaseOf.get(controller);
    who = `slurmctld on ${controller} (${ctl})`;
  }
  if (!ctl) return [];
  const slurm = (r: PiRelease) => `Slurm ${SLURM_OF_RELEASE[r]}`;
  return nodes.flatMap((n, i) => {
    const node = releaseOf.get(n);
    if (!node || n === controller) return [];
    const fit = slurmFit(ctl, node);
    if (fit === 'ok') return [];
    const why =
      fit === 'newer'
        ? `newer than ${who}, ${slurm(ctl)}: slurmctld must be at least as new as every slurmd`
        : `too old for ${who}, ${slurm(ctl)}, which talks to slurmd ${oldestSlurmFor(ctl)} and newer`;
    return [`slurm.nodes[${i}]: "${n}" runs ${node}, ${slurm(node)}, ${why}; put the Slurm Pis on one Raspberry Pi OS release (pis.nodes[].os)`];
  });
}

/** Services that only work with another one. */
const serviceNeeds: Rule = (lab) => {
  const s = lab.services as Record<string, unknown>;
  // what a service needs is data on the service table (services.ts), not a rule of its own
  const problems = SERVICE_KEYS.flatMap((k) =>
    s[k]
      ? Object.entries(serviceSpec(k).needs ?? {})
          .filter(([n]) => !s[n])
          .map(([n, why]) => `services.${k}: needs services.${n}, ${why}`)
      : [],
  );
  if (lab.slurm?.controller === 'k8s' && !s.registry)
    problems.push('slurm.controller: k8s needs services.registry, where the slurmctld image is built and pushed (or make a Pi the controller)');
  return problems;
};

/**
 * The rules in the order they run, each with what it asks of a lab and the keys it reads, in
 * the words of docs/lab-yaml.md (made from this table by reference.ts: `npm run docs`).
 * Key paths name a list's items as `[]`; `services.*` stands for every service IP.
 */
const RULES: readonly { check: Rule; says: string; keys: readonly string[] }[] = [
  {
    check: subnetsWellFormed,
    says: 'A subnet is written with its network address: `10.0.0.0/24`, not `10.0.0.5/24`.',
    keys: ['network.subnet', 'cluster.podSubnet', 'cluster.serviceSubnet'],
  },
  {
    check: clusterSubnetSizes,
    says: "kubeadm's limits: `cluster.serviceSubnet` is at most a /12, and `cluster.podSubnet` is a /24 or larger (each node takes a /24 of it).",
    keys: ['cluster.serviceSubnet', 'cluster.podSubnet'],
  },
  {
    check: insideSubnet,
    says: 'Every address (the gateway, the VMs, the Pis, every service IP), `network.dhcpRange` and every MetalLB range is inside `network.subnet`, and no address is its network or broadcast address.',
    keys: ['network.subnet', 'network.gateway', 'network.dhcpRange', 'cluster.controlPlane.ip', 'cluster.workers.firstIp', 'cluster.workers.hosts[].ip', 'pis.nodes[].ip', 'services.metallb.addresses', 'services.*', 'slurm.ip'],
  },
  {
    check: workerRunFits,
    says: 'With a Vagrant provider `cluster.workers.firstIp` is required when `cluster.workers.count` is above 0, and the workers\' addresses (one after another from it) end inside `network.subnet`.',
    keys: ['cluster.workers.firstIp', 'cluster.workers.count'],
  },
  {
    check: vmNamesValid,
    says: "The last worker's name (`namePrefix` followed by `count - 1`) is at most 63 characters.",
    keys: ['cluster.workers.namePrefix', 'cluster.workers.count'],
  },
  {
    check: uniqueIps,
    says: 'No address is used twice: the gateway, the VMs, the Pis and the service IPs share one address space.',
    keys: ['network.gateway', 'cluster.controlPlane.ip', 'cluster.workers.firstIp', 'cluster.workers.hosts[].ip', 'pis.nodes[].ip', 'services.*', 'slurm.ip'],
  },
  {
    check: uniqueNames,
    says: 'No host name is used twice in the lab domain: the VMs, the Pis, `api` (the Kubernetes API) and the names of the services; a VM or Pi that takes a service\'s name is the one to rename.',
    keys: ['cluster.controlPlane.name', 'cluster.workers.namePrefix', 'cluster.workers.hosts[].name', 'pis.nodes[].name'],
  },
  {
    check: poolClear,
    says: 'The MetalLB pool holds no address of the gateway, a VM or a Pi, does not overlap `network.dhcpRange`, and its ranges do not overlap each other.',
    keys: ['services.metallb.addresses', 'network.dhcpRange'],
  },
  {
    check: dhcpClear,
    says: 'No address of the gateway, a VM or a Pi is inside `network.dhcpRange` (the DHCP server could hand it to another host).',
    keys: ['network.dhcpRange', 'network.gateway', 'cluster.controlPlane.ip', 'cluster.workers.firstIp', 'cluster.workers.hosts[].ip', 'pis.nodes[].ip'],
  },
  {
    check: servicesInPool,
    says: 'Every service IP is a LoadBalancer IP from the MetalLB pool, so a service with an IP needs `services.metallb` (enabled) and an IP inside one of its ranges.',
    keys: ['services.metallb', 'services.*', 'slurm.ip'],
  },
  {
    check: clusterSubnetsClear,
    says: '`cluster.podSubnet` and `cluster.serviceSubnet` overlap neither the LAN (`network.subnet`) nor each other.',
    keys: ['cluster.podSubnet', 'cluster.serviceSubnet', 'network.subnet'],
  },
  {
    check: roles,
    says: 'With a `storage` section exactly one Pi has role storage, and without one no Pi has it; at most one Pi has role aptcache; a Pi lists a role once; an export name is used once.',
    keys: ['pis.nodes[].roles', 'storage', 'storage.exports[].name'],
  },
  {
    check: slurm,
    says: "`slurm.controller` is `k8s` or the name of a Pi; `slurm.ip` is required with `k8s` and allowed only with it; every name in `slurm.nodes` is a Pi with role compute, listed once; each Slurm Pi's Slurm (that of its Raspberry Pi OS release: bullseye 20.11, bookworm 22.05, trixie 24.11) can talk to slurmctld's: not newer, and at most two major releases older (three for 24.11), so bookworm and trixie never share a Slurm cluster.",
    keys: ['slurm.controller', 'slurm.ip', 'slurm.nodes', 'pis.os', 'pis.nodes[].os'],
  },
  {
    check: serviceNeeds,
    says: '`services.registry` needs `services.certManager` (its TLS certificate comes from the lab CA: containerd never trusts an insecure registry); `slurm.controller: k8s` needs `services.registry` (the slurmctld image is built and pushed there).',
    keys: ['services.registry', 'services.certManager', 'slurm.controller'],
  },
];

/** What each rule asks of a lab and the lab.yaml keys it reads, in rule order (for the reference); the provider's keys, checked with the types (load.ts), last. */
export const RULE_DOCS: readonly { says: string; keys: readonly string[] }[] = [...RULES.map(({ says, keys }) => ({ says, keys })), PROVIDER_KEYS_DOC];

/** Every cross-field problem of the lab, in rule order. */
export function checkRules(lab: Lab): string[] {
  return RULES.flatMap((rule) => rule.check(lab));
}
