/**
 * The services of lab.yaml (`services:`), one entry each: the one table of what a service is.
 * It drives
 *   - the schema (schema.ts): `services.<key>` with its keys, their types and descriptions;
 *   - the host names of the lab (hosts.ts): each service IP's name in /etc/hosts, the laptop's
 *     hosts files and the lab DNS, and (WEB_UIS) the web UIs whose names point at the gateway;
 *   - the web UIs of k8s/ (plan/k8s/web-uis.ts): their in-cluster Service and port;
 *   - `labgen init` (wizard/): the checklist line of each service, which are on in the seed lab,
 *     and the address each IP gets there, as a host number of the subnet.
 * The order is the order of `services:` everywhere (lab.yaml, the schema, the checklist, the
 * service IPs in the hosts file); WEB_UIS has an order of its own. This module imports nothing:
 * the schema, the plan and the wizard all load it.
 */

/** A LoadBalancer IP of the service, from the MetalLB pool. */
export interface IpKey {
  kind: 'ip';
  /** required: the service needs it; optional: the service runs without one (see WEB_UIS) */
  required: boolean;
  /** what the IP is of, as its description says: "LoadBalancer IP of <of>" */
  of: string;
  /** its host name in the lab domain: `<host>.<domain>` resolves to the IP */
  host: string;
  /** the address the seed lab (and `labgen init`) gives it: host number `seed` of the subnet */
  seed: number;
}

/** The MetalLB pool: a list of ranges. */
export interface PoolKey {
  kind: 'pool';
  description: string;
  /** the seed lab's one range, as host numbers of the subnet: first and last */
  seed: readonly [number, number];
}

export interface Service {
  /** what it is: the schema's description of `services.<key>` */
  about: string;
  /** its keys besides `enabled`, in lab.yaml's order */
  keys: Readonly<Record<string, IpKey | PoolKey>>;
  /** off unless `enabled: true` (in the schema, and left out of the seed lab) */
  optIn?: boolean;
  /** the other services it only works with, each with why: rules.ts's message (test/model/services.test.ts holds the two together) */
  needs?: Readonly<Record<string, string>>;
  /** its line in `labgen init`'s checklist, given the lab domain and where each key's seed address lands */
  choice(at: { domain: string; seed(key: string): string }): string;
}

/** A LoadBalancer IP the service needs / may have (the literal `required` types the schema's key). */
const ip = (of: string, host: string, seed: number) => ({ kind: 'ip', required: true, of, host, seed }) as const satisfies IpKey;
const optionalIp = (of: string, host: string, seed: number) => ({ kind: 'ip', required: false, of, host, seed }) as const satisfies IpKey;

export const SERVICES = {
  metallb: {
    about: 'MetalLB: hands out the LoadBalancer IPs (L2 advertisement)',
    keys: { addresses: { kind: 'pool', description: 'the pool every LoadBalancer IP comes from', seed: [10, 49] } },
    choice: (at) => `MetalLB: LoadBalancer IPs ${at.seed('addresses')}`,
  },
  coredns: {
    about: 'a CoreDNS for the lab domain',
    keys: { ip: ip('the lab DNS', 'dns', 21) },
    choice: (at) => `CoreDNS for ${at.domain} on ${at.seed('ip')}`,
  },
  gateway: {
    about: 'Traefik as the Gateway API controller: routes the web UIs by name',
    keys: { ip: ip('the gateway', 'gateway', 25) },
    choice: (at) => `Gateway API: the web UIs by name, on ${at.seed('ip')}`,
  },
  certManager: {
    about: 'cert-manager with the lab CA',
    keys: {},
    choice: () => 'cert-manager: TLS from the lab CA',
  },
  headlamp: {
    about: 'Headlamp, the Kubernetes web UI, reached through the gateway',
    keys: {},
    choice: () => 'Headlamp: the Kubernetes web UI',
  },
  registry: {
    about: 'a private container registry with a UI and ChartMuseum, with a TLS certificate from the lab CA',
    keys: { ip: ip('the registry', 'registry', 10), ui: optionalIp('the registry UI', 'registry-ui', 26), chartmuseum: optionalIp('ChartMuseum', 'chartmuseum', 27) },
    needs: { certManager: 'which issues its TLS certificate from the lab CA (containerd never trusts an insecure registry)' },
    choice: (at) => `private registry on ${at.seed('ip')}, its UI and ChartMuseum`,
  },
  monitoring: {
    about: 'Prometheus, Grafana and the Pushgateway, with dashboards',
    keys: {
      grafana: optionalIp('Grafana', 'grafana', 31),
      prometheus: optionalIp('Prometheus', 'prometheus', 32),
      pushgateway: optionalIp('the Pushgateway', 'pushgateway', 33),
    },
    choice: () => 'Prometheus, Grafana and Pushgateway',
  },
  logging: {
    about: 'logging (Elasticsearch and Kibana); off unless enabled: true',
    keys: { ip: optionalIp('Kibana', 'kibana', 34) },
    optIn: true,
    choice: () => 'Fluent Bit, Elasticsearch and Kibana (heavy on a laptop)',
  },
  tftp: {
    about: 'a TFTP server',
    keys: { ip: ip('the TFTP server', 'tftp', 23) },
    choice: (at) => `TFTP server on ${at.seed('ip')}`,
  },
  sftp: {
    about: 'an SFTP server',
    keys: { ip: ip('the SFTP server', 'sftp', 24) },
    choice: (at) => `SFTP server on ${at.seed('ip')}`,
  },
} as const satisfies Record<string, Service>;

export type ServiceKey = keyof typeof SERVICES;

/** The service keys in lab.yaml's order. */
export const SERVICE_KEYS = Object.keys(SERVICES) as ServiceKey[];

/** The service the LoadBalancer IPs come from: every service IP needs it. */
export const POOL_SERVICE = 'metallb' satisfies ServiceKey;

/** A service's entry as a Service (the table's own types are its literal ones, narrower per service). */
export const serviceSpec = (key: ServiceKey): Service => SERVICES[key];

/** `keys` and every service they need, and those need, in lab.yaml's order. */
export function withNeeds(keys: readonly ServiceKey[]): ServiceKey[] {
  const all = new Set<ServiceKey>();
  const add = (k: ServiceKey) => {
    if (all.has(k)) return;
    all.add(k);
    for (const n of Object.keys(serviceSpec(k).needs ?? {})) add(n as ServiceKey);
  };
  keys.forEach(add);
  return SERVICE_KEYS.filter((k) => all.has(k));
}

/**
 * The web UIs, each reached at https://<host>.<domain> through the gateway, in the order the
 * hosts file, the lab DNS and the gateway's certificate list them. `ip` names the service's key
 * that gives the UI a LoadBalancer IP of its own (its host is that key's); a UI without one
 * names its `host`, which then always points at the gateway.
 */
export const WEB_UIS = [
  { service: 'monitoring', ip: 'grafana', k8sService: 'grafana', targetPort: 3000 },
  { service: 'headlamp', host: 'headlamp', k8sService: 'headlamp', targetPort: 4466 },
  { service: 'registry', ip: 'ui', k8sService: 'registry-ui', targetPort: 80 },
  { service: 'registry', ip: 'chartmuseum', k8sService: 'chartmuseum', targetPort: 8080 },
] as const satisfies readonly WebUiSpec[];

export interface WebUiSpec {
  service: ServiceKey;
  /** the service's key holding the UI's own IP */
  ip?: string;
  /** the host name of a UI without an IP key */
  host?: string;
  /** its ClusterIP Service in k8s/ (port 80) */
  k8sService: string;
  /** the container port the UI listens on */
  targetPort: number;
}

/** A web UI's host name: its IP key's, or its own. */
export function uiHost(ui: WebUiSpec): string {
  const key = ui.ip ? serviceSpec(ui.service).keys[ui.ip] : undefined;
  if (key?.kind === 'ip') return key.host;
  if (ui.host) return ui.host;
  throw new Error(`WEB_UIS: ${ui.service} names no host`);
}

/** Whether `services.<service>.<key>` is a web UI's own IP (left out, the UI is reached through the gateway). */
export const isUiIp = (service: ServiceKey, key: string): boolean => WEB_UIS.some((u: WebUiSpec) => u.service === service && u.ip === key);
