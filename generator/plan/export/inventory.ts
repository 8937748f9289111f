import type { Lab } from '../../model/defaults.js';
import { shellQuote } from '../../common/quote.js';
import { clusterHosts, piHosts } from '../support/cluster-hosts.js';
import { toYaml } from '../support/yaml.js';
import { type ExportContext, exportNote, inOut } from './context.js';

/**
 * The Ansible export's inventory.yaml, in kubespray's layout: kube_control_plane, kube_node and
 * etcd, with k8s_cluster holding the first two; the Pis as `pis`, with a group per role
 * (pis_compute, pis_storage, pis_aptcache). Every host has ansible_host and ip (its address:
 * kubespray binds to `ip`), and ansible_user. ssh runs with the export's ssh_config, so every
 * connection checks the host key labgen pinned. A host's variables are set in the first group
 * that lists it; the others list it bare.
 */

type HostVars = { ansible_host: string; ip: string; ansible_user: string };
type Hosts = Record<string, HostVars | Record<string, never>>;
type Group = { hosts?: Hosts; children?: Record<string, Group | Record<string, never>>; vars?: Record<string, string> };

const vars = (h: { ip: string; user: string }): HostVars => ({ ansible_host: h.ip, ip: h.ip, ansible_user: h.user });

/** The Pis' role groups, in lab.yaml's role order. */
export const PI_GROUP = 'pis';
export const piRoleGroup = (role: string) => `${PI_GROUP}_${role}`;

export function inventoryGroups(lab: Lab, ctx: ExportContext): { all: Group } {
  const cluster = clusterHosts(lab);
  const cps = cluster.filter((h) => h.role === 'control-plane');
  const workers = cluster.filter((h) => h.role === 'worker');
  // with no workers the control plane runs the pods (kubeadm-config.ts leaves it untainted): a node too
  const nodes = workers.length ? workers : cps;
  const listed = new Set<string>();
  const hosts = (hs: readonly { name: string; ip: string; user: string }[]): Hosts =>
    Object.fromEntries(
      hs.map((h) => {
        const first = !listed.has(h.name);
        listed.add(h.name);
        return [h.name, first ? vars(h) : {}];
      }),
    );
  const kubeControlPlane = { hosts: hosts(cps) };
  const kubeNode = { hosts: hosts(nodes) };
  const etcd = { hosts: hosts(cps) };
  const pis = piHosts(lab);
  const roles = [...new Set(pis.flatMap((p) => p.roles))];
  const piGroup: Group = {
    ...(pis.length ? { hosts: hosts(pis) } : {}),
    ...(roles.length ? { children: Object.fromEntries(roles.map((r) => [piRoleGroup(r), { hosts: hosts(pis.filter((p) => p.roles.includes(r))) }])) } : {}),
  };
  return {
    all: {
      vars: { ansible_ssh_common_args: `-F ${shellQuote(inOut(ctx, 'ssh_config'))}` },
      children: {
        kube_control_plane: kubeControlPlane,
        kube_node: kubeNode,
        etcd,
        k8s_cluster: { children: { kube_control_plane: {}, kube_node: {} } },
        ...(pis.length ? { [PI_GROUP]: piGroup } : {}),
      },
    },
  };
}

export function planInventory(lab: Lab, ctx: ExportContext): string {
  const about = [
    `# ${exportNote('--ansible')}`,
    `# The ${lab.name} lab for Ansible (kubespray's groups): ansible-inventory -i inventory.yaml --graph`,
    '# ssh runs with ssh_config beside it: host keys are checked against .labgen/known_hosts.',
  ].join('\n');
  return toYaml([inventoryGroups(lab, ctx)], about);
}
