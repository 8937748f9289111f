import type { Lab } from './defaults.js';
import { intToIp, ipToInt } from './ip.js';

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
}

/** The name the Kubernetes API is reached by, so an IP change does not invalidate certificates. */
export const API_HOST = 'api';

export function vms(lab: Lab): Vm[] {
  const cp = lab.cluster.controlPlane;
  const w = lab.cluster.workers;
  const first = w.firstIp ? ipToInt(w.firstIp) : 0;
  const workers = Array.from({ length: w.firstIp ? w.count : 0 }, (_, i): Vm => ({
    name: `${w.namePrefix}${i}`,
    ip: intToIp(first + i),
    cpus: w.cpus,
    memory: w.memory,
    role: 'worker',
  }));
  return [{ ...cp, role: 'control-plane' }, ...workers];
}

/** The gateway, the VMs and the Pis: addresses that are not MetalLB's. */
export function nodeAddresses(lab: Lab): Address[] {
  const gateway: Address = { ip: lab.network.gateway, name: 'lan-gateway', path: 'network.gateway', kind: 'gateway' };
  const vmAddrs = vms(lab).map((vm, i): Address => ({
    ip: vm.ip,
    name: vm.name,
    path: vm.role === 'control-plane' ? 'cluster.controlPlane.ip' : `cluster.workers.firstIp (+${i - 1})`,
    kind: 'vm',
  }));
  const pis = lab.pis.nodes.map((n, i): Address => ({ ip: n.ip, name: n.name, path: `pis.nodes[${i}].ip`, kind: 'pi' }));
  return [gateway, ...vmAddrs, ...pis];
}

/** Services with a LoadBalancer IP of their own, named as they appear in the lab domain. */
export function serviceAddresses(lab: Lab): Address[] {
  const s = lab.services;
  const out: Address[] = [];
  const add = (ip: string | undefined, name: string, path: string) => ip && out.push({ ip, name, path, kind: 'service' });
  if (s.coredns?.enabled) add(s.coredns.ip, 'dns', 'services.coredns.ip');
  if (s.gateway?.enabled) add(s.gateway.ip, 'gateway', 'services.gateway.ip');
  if (s.registry?.enabled) {
    add(s.registry.ip, 'registry', 'services.registry.ip');
    add(s.registry.ui, 'registry-ui', 'services.registry.ui');
    add(s.registry.chartmuseum, 'chartmuseum', 'services.registry.chartmuseum');
  }
  if (s.monitoring?.enabled) {
    add(s.monitoring.grafana, 'grafana', 'services.monitoring.grafana');
    add(s.monitoring.prometheus, 'prometheus', 'services.monitoring.prometheus');
    add(s.monitoring.pushgateway, 'pushgateway', 'services.monitoring.pushgateway');
  }
  if (s.logging?.enabled) add(s.logging.ip, 'kibana', 'services.logging.ip');
  if (s.tftp?.enabled) add(s.tftp.ip, 'tftp', 'services.tftp.ip');
  if (s.sftp?.enabled) add(s.sftp.ip, 'sftp', 'services.sftp.ip');
  if (lab.slurm?.controller === 'k8s') add(lab.slurm.ip, 'slurmctld', 'slurm.ip');
  return out;
}

/**
 * Web UIs without an IP of their own (Headlamp always; Grafana, the registry UI and ChartMuseum
 * when lab.yaml gives them none): their names point at the gateway, which routes them by name.
 */
export function gatewayAliases(lab: Lab): Address[] {
  const s = lab.services;
  if (!s.gateway?.enabled) return [];
  const uis: [boolean | undefined, string, string, string | undefined][] = [
    [s.monitoring?.enabled, 'grafana', 'services.monitoring', s.monitoring?.grafana],
    [s.headlamp?.enabled, 'headlamp', 'services.headlamp', undefined],
    [s.registry?.enabled, 'registry-ui', 'services.registry', s.registry?.ui],
    [s.registry?.enabled, 'chartmuseum', 'services.registry', s.registry?.chartmuseum],
  ];
  return uis.filter(([on, , , ip]) => on && !ip).map(([, name, path]) => ({ ip: s.gateway!.ip, name, path, kind: 'service' }));
}

/** Host name → IP lines for hosts files, in a stable order: nodes, the API name, services. */
export function hostsEntries(lab: Lab): { ip: string; names: string[] }[] {
  const fqdn = (n: string) => [`${n}.${lab.domain}`, n];
  const nodes = nodeAddresses(lab).filter((a) => a.kind !== 'gateway');
  const api = { ip: lab.cluster.controlPlane.ip, names: fqdn(API_HOST) };
  const services = [...serviceAddresses(lab), ...gatewayAliases(lab)];
  return [...nodes.map((a) => ({ ip: a.ip, names: fqdn(a.name) })), api, ...services.map((a) => ({ ip: a.ip, names: fqdn(a.name) }))];
}
