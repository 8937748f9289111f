import yaml from 'js-yaml';
import { LAB_SCHEMA } from '../plan/lab/schema.js';
import { type FlowValue, type LabDraft, serviceEntries } from './draft.js';

/**
 * lab.yaml as `labgen init` writes it: built line by line from the lab the answers make, in the
 * seed lab's layout and with its comments, so the file reads like labs/rpi-slurm/lab.yaml.
 * Deterministic: the same answers and schema reference give the same bytes.
 */

/**
 * What the `$schema=` line points at: the lab folder's own copy of the schema (generate writes
 * it, see plan/lab/schema.ts), so it works offline, moves with the folder and matches the labgen
 * that wrote the lab — never a path into npx's cache.
 */
export const SCHEMA_REF = LAB_SCHEMA;

/** A scalar as YAML writes it in flow context (quoted only when it must be, with "). */
function scalar(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  return yaml.dump([v], { flowLevel: 0, quotingType: '"' }).trim().slice(1, -1);
}

/** `{ name: node01, ip: 10.0.0.2, roles: [storage, aptcache] }`, the seed's one-line style. */
export function flow(v: FlowValue): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v);
    return entries.length ? `{ ${entries.map(([k, x]) => `${k}: ${flow(x)}`).join(', ')} }` : '{}';
  }
  return scalar(v);
}

const COMMENT_COLUMN = 31;
const WIDTH = 96;

/** `a`, `a and b`, `a, b and c` */
const and = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `# ` lines of at most WIDTH characters. */
function commentBlock(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > WIDTH && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/** The opening comment's first words and last sentence: who wrote the file, what to do with it. */
export interface Heading {
  by: string;
  then: string;
}

export const INIT_HEADING: Heading = {
  by: 'Written by `labgen init`',
  then: 'Edit this file, then run `labgen generate` in this folder to update the lab.',
};

/** What the lab is, in two or three sentences, for the top of the file. */
function about(lab: LabDraft, heading: Heading): string {
  const vms = 1 + lab.cluster.workers.count;
  const pis = lab.pis.nodes;
  const withRole = (r: string) => pis.filter((p) => p.roles.includes(r as never)).map((p) => p.name);
  const parts = [
    `${heading.by}: a laptop running a kubeadm cluster of ${plural(vms, 'VM')} and ${plural(pis.length, 'Raspberry Pi')} on the LAN ${lab.network.subnet}.`,
  ];
  if (pis.length) {
    const [storage, aptcache] = [withRole('storage'), withRole('aptcache')].map((names) => and(names));
    const roles =
      storage && storage === aptcache
        ? [`${storage} keeps the NFS volumes and the apt cache`]
        : [storage ? `${storage} keeps the NFS volumes` : 'no Pi keeps NFS volumes', aptcache ? `${aptcache} keeps the apt cache` : 'no apt cache'];
    const s = lab.slurm;
    roles.push(
      s
        ? `${and(s.nodes)} run${s.nodes.length === 1 ? 's' : ''} Slurm jobs (slurmctld ${s.controller === 'k8s' ? 'in the cluster' : `on ${s.controller}`})`
        : 'no Slurm',
    );
    parts.push(`Roles: ${roles.join('; ')}.`);
  }
  parts.push(heading.then);
  return parts.join(' ');
}

/** lab.yaml's text for the lab `lab`, its first line pointing editors at the JSON Schema `schema`. */
export function labYaml(lab: LabDraft, schema: string, heading: Heading = INIT_HEADING): string {
  const out: string[] = [];
  const put = (text: string, comment?: string) =>
    out.push(comment === undefined ? text : `${text.length < COMMENT_COLUMN - 1 ? text.padEnd(COMMENT_COLUMN) : `${text}   `}# ${comment}`);
  const key = (indent: number, k: string, v: FlowValue, comment?: string) => put(`${' '.repeat(indent)}${k}: ${flow(v)}`, comment);

  out.push(`# yaml-language-server: $schema=${schema}`);
  out.push(...commentBlock(about(lab, heading)));
  key(0, 'version', lab.version);
  key(0, 'name', lab.name);
  key(0, 'domain', lab.domain);

  const n = lab.network;
  put('network:');
  key(2, 'subnet', n.subnet);
  key(2, 'gateway', n.gateway, 'the laptop, sharing its Wi-Fi (seed 003)');
  const labDns = lab.services.coredns?.enabled !== false && lab.services.coredns?.ip === n.dns[0];
  key(2, 'dns', n.dns, labDns ? 'lab DNS (CoreDNS LoadBalancer IP) first' : 'the gateway: CoreDNS is off, so there is no lab DNS');
  key(2, 'upstreamDns', n.upstreamDns);
  key(2, 'dhcpRange', n.dhcpRange, 'what your DHCP server hands out; no static IP in it');

  const c = lab.cluster;
  put('cluster:', 'Kubernetes on VMs on the laptop');
  key(2, 'provider', c.provider, 'virtualbox | libvirt | existing (hosts you have, over SSH)');
  key(2, 'box', c.box);
  key(2, 'bridge', c.bridge, 'host adapter the VMs bridge to (the Pi LAN)');
  key(2, 'kubernetesVersion', c.kubernetesVersion);
  key(2, 'cni', c.cni, 'flannel | calico | cilium');
  key(2, 'podSubnet', c.podSubnet);
  key(2, 'serviceSubnet', c.serviceSubnet);
  key(2, 'controlPlane', c.controlPlane);
  key(2, 'workers', c.workers, c.workers.count === 0 ? 'none: the control plane is the whole cluster' : undefined);

  const p = lab.pis;
  put('pis:');
  key(2, 'os', p.os, 'bullseye (dhcpcd) | bookworm (NetworkManager) | trixie (cloud-init)');
  key(2, 'interface', p.interface);
  key(2, 'user', p.user);
  key(2, 'authorizedKeys', p.authorizedKeys, 'also let you in; labgen makes its own lab key');
  if (p.nodes.length === 0) key(2, 'nodes', [], 'add Pis as { name: node01, ip: …, roles: [compute] }');
  else {
    put('  nodes:');
    for (const node of p.nodes) put(`    - ${flow(node)}`);
  }

  if (lab.storage) {
    put('storage:', 'on the Pi with role storage');
    key(2, 'disk', lab.storage.disk);
    put('  exports:');
    for (const e of lab.storage.exports) put(`    - ${flow(e)}`);
  } else put('# no storage Pi: for NFS volumes, give one Pi role storage and add storage: { disk, exports }');

  put('services:', 'Kubernetes add-ons; an IP is a MetalLB LoadBalancer IP');
  const on: Record<string, FlowValue> = serviceEntries(lab.network.subnet);
  for (const [name, entry] of Object.entries(lab.services))
    key(2, name, entry, entry.enabled === false && on[name] ? `off; to turn it on: ${flow(on[name])}` : undefined);

  const s = lab.slurm;
  if (s) {
    put('slurm:');
    key(2, 'controller', s.controller, "k8s (slurmctld in the cluster) | a Pi's name");
    if (s.ip !== undefined) key(2, 'ip', s.ip, "slurmctld's LoadBalancer IP when controller is k8s");
    key(2, 'partition', s.partition);
    key(2, 'nodes', s.nodes);
  } else put('# no Slurm: to run jobs on the Pis, add slurm: { controller, nodes } (see the lab.yaml reference)');
  return `${out.join('\n')}\n`;
}
