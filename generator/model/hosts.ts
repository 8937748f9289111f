import type { Lab } from './defaults.js';
import { intToIp, ipToInt } from './ip.js';
import { SERVICE_KEYS, type ServiceKey, serviceSpec, uiHost, WEB_UIS, type WebUiSpec } from './services.js';

/**
 * Every named address of the lab, each with the lab.yaml path it comes from. One source for
 * /etc/hosts on VMs and Pis, the laptop's hosts files, ssh_config, DNS records and the rules
 * that forbid an address or a name being used twice.
 */

export type HostKind = 'gateway' | 'vm' | 'pi' | 'service';

export interface Address {
  ip: string;
  /** host name inside the lab domain */
  name: string;
  /** where lab.yaml sets it, e.g. pis.nodes[2].ip */
  path: string;
  kind: HostKind;
}

export interface Vm {
  name: string;
  ip: string;
  cpus: number;
  memory: number;
  role: 'control-plane' | 'worker';
  /** provider existing: the disk labgen prepares for containerd's and the kubelet's data */
  disk?: string;
  /** where lab.yaml sets its address, e.g. cluster.workers.hosts[1].ip */
  path: string;
}

/** Whether the cluster runs on hosts that exist already (provider existing), not on Vagrant VMs. */
export const onExistingHosts = (lab: Pick<Lab, 'cluster'>) => lab.cluster.provider === 'existing';

/** The name the Kubernetes API is reached by, so an IP change does not invalidate certificates. */
export const API_HOST = 'api';

/**
 * The cluster's machines, control plane first: Vagrant's VMs (workers counted from firstIp), or
 * with provider existing the hosts lab.yaml lists (workers.hosts; cpus and memory are then unused).
 */
export function vms(lab: Lab): Vm[] {
  const cp = lab.cluster.controlPlane;
  const w = lab.cluster.workers;
  const first = w.firstIp ? ipToInt(w.firstIp) : 0;
  const workers = onExistingHosts(lab)
    ? (w.hosts ?? []).map((h, i): Vm => ({ ...h, cpus: w.cpus, memory: w.memory, role: 'worker', path: `cluster.workers.hosts[${i}].ip` }))
    : Array.from({ length: w.firstIp ? w.count : 0 }, (_, i): Vm => ({
        name: `${w.namePrefix}${i}`,
        ip: intToIp(first + i),
        cpus: w.cpus,
        memory: w.memory,
        role: 'worker',
        path: `cluster.workers.firstIp (+${i})`,
      }));
  return [{ ...cp, role: 'control-plane', path: 'cluster.controlPlane.ip' }, ...workers];
}

/** The gateway, the VMs and the Pis: addresses that are not MetalLB's. */
export function nodeAddresses(lab: Lab): Address[] {
  const gateway: Address = { ip: lab.network.gateway, name: 'lan-gateway', path: 'network.gateway', kind: 'gateway' };
  const vmAddrs = vms(lab).map((vm): Address => ({ ip: vm.ip, name: vm.name, path: vm.path, kind: 'vm' }));
  const pis = lab.pis.nodes.map((n, i): Address => ({ ip: n.ip, name: n.name, path: `pis.nodes[${i}].ip`, kind: 'pi' }));
  return [gateway, ...vmAddrs, ...pis];
}

/** The service's settings in the lab when it is on. */
export function onService<K extends ServiceKey>(lab: Lab, key: K): NonNullable<Lab['services'][K]> | undefined {
  const s = lab.services[key];
  return s?.enabled ? s : undefined;
}

/** The value of key `k` of a service's settings (the table names keys as strings). */
const keyOf = (settings: object, k: string): unknown => (settings as Record<string, unknown>)[k];

/**
 * Services with a LoadBalancer IP of their own, named as they appear in the lab domain: each IP
 * key of the service table (services.ts) with its host name, then slurmctld in the cluster.
 */
export function serviceAddresses(lab: Lab): Address[] {
  const out: Address[] = [];
  const add = (ip: unknown, name: string, path: string) => typeof ip === 'string' && ip && out.push({ ip, name, path, kind: 'service' });
  for (const key of SERVICE_KEYS) {
    const on = onService(lab, key);
    if (on) for (const [k, spec] of Object.entries(serviceSpec(key).keys)) if (spec.kind === 'ip') add(keyOf(on, k), spec.host, `services.${key}.${k}`);
  }
  if (lab.slurm?.controller === 'k8s') add(lab.slurm.ip, 'slurmctld', 'slurm.ip');
  return out;
}

/**
 * Web UIs without an IP of their own (WEB_UIS: Headlamp always; Grafana, the registry UI and
 * ChartMuseum when lab.yaml gives them none): their names point at the gateway, which routes
 * them by name.
 */
export function gatewayAliases(lab: Lab): Address[] {
  const gateway = onService(lab, 'gateway');
  if (!gateway) return [];
  return WEB_UIS.flatMap((ui: WebUiSpec): Address[] => {
    const on = onService(lab, ui.service);
    return on && !(ui.ip && keyOf(on, ui.ip)) ? [{ ip: gateway.ip, name: uiHost(ui), path: `services.${ui.service}`, kind: 'service' }] : [];
  });
}

/** Host name → IP lines for hosts files, in a stable order: nodes, the API name, services. */
export function hostsEntries(lab: Lab): { ip: string; names: string[] }[] {
  const fqdn = (n: string) => [`${n}.${lab.domain}`, n];
  const nodes = nodeAddresses(lab).filter((a) => a.kind !== 'gateway');
  const api = { ip: lab.cluster.controlPlane.ip, names: fqdn(API_HOST) };
  const services = [...serviceAddresses(lab), ...gatewayAliases(lab)];
  return [...nodes.map((a) => ({ ip: a.ip, names: fqdn(a.name) })), api, ...services.map((a) => ({ ip: a.ip, names: fqdn(a.name) }))];
}
