import { intToIp, isCidr, parseSubnet } from '../model/ip.js';
import type { LabInput } from '../model/schema.js';
import { DEFAULTS } from '../model/seed.js';
import { SERVICE_KEYS, type ServiceKey, serviceSpec } from '../model/services.js';

/**
 * The lab `labgen init` makes: its type (the schema's input type, with the keys the wizard always
 * writes) and the seed lab's parts that follow the subnet: addresses, and each service as
 * lab.yaml writes it when on (from the service table, model/services.ts). ./questions.ts fills
 * a LabDraft from the answers; ./lab-yaml.ts writes it.
 */

type Scalar = string | number | boolean;
export type FlowValue = Scalar | readonly FlowValue[] | { readonly [k: string]: FlowValue };

/** T (an optional part of the input) there, with its keys K there too. */
type Given<T, K extends keyof NonNullable<T> = never> = Omit<NonNullable<T>, K> & { [P in K]-?: NonNullable<NonNullable<T>[P]> };
type Cluster = LabInput['cluster'];
type Services = NonNullable<LabInput['services']>;

/**
 * The lab the answers make: lab.yaml's input type (the zod schema's, model/schema.ts) with every
 * key the seed lab.yaml writes there (./lab-yaml.ts writes them in its order). A service that
 * is off is `{ enabled: false }`, which the model drops before the schema sees it.
 */
export type LabDraft = Omit<Given<LabInput, 'name' | 'domain'>, 'network' | 'cluster' | 'pis' | 'services' | 'storage' | 'slurm'> & {
  network: Given<LabInput['network'], 'subnet' | 'gateway' | 'dns' | 'upstreamDns' | 'dhcpRange'>;
  cluster: Omit<Given<Cluster, 'provider' | 'box' | 'bridge' | 'kubernetesVersion' | 'cni' | 'podSubnet' | 'serviceSubnet'>, 'controlPlane' | 'workers'> & {
    controlPlane: Given<Cluster['controlPlane'], 'name' | 'cpus' | 'memory'>;
    workers: Given<Cluster['workers'], 'count'>;
  };
  pis: Omit<Given<LabInput['pis'], 'os' | 'interface' | 'user' | 'authorizedKeys'>, 'nodes'> & {
    nodes: Given<NonNullable<NonNullable<LabInput['pis']>['nodes']>[number], 'roles'>[];
  };
  storage?: LabInput['storage'];
  services: { [K in ServiceKey]?: NonNullable<Services[K]> | { enabled: false } };
  slurm?: Given<LabInput['slurm'], 'partition'>;
};

/** Host `n` of the subnet (of the seed subnet while the answer is not a CIDR yet). */
export function hostIn(subnet: string, n: number): string {
  const s = parseSubnet(isCidr(subnet) ? subnet : DEFAULTS.network.subnet);
  return intToIp(s.network + n);
}

/** The services on in the seed lab: all but the opt-in ones. */
export const SEED_SERVICES: readonly ServiceKey[] = SERVICE_KEYS.filter((k) => !serviceSpec(k).optIn);

/** Where key `key` of service `service` is in the seed lab, in `subnet`: an IP, or a pool's range `first-last`. */
export function seedAddress(subnet: string, service: ServiceKey, key: string): string {
  const spec = serviceSpec(service).keys[key]!;
  if (spec.kind === 'ip') return hostIn(subnet, spec.seed);
  return `${hostIn(subnet, spec.seed[0])}-${hostIn(subnet, spec.seed[1])}`;
}

type Entry = { [k: string]: FlowValue };

/** Each service as lab.yaml writes it when on: its keys at their seed addresses (and `enabled: true` when it is opt-in). */
export function serviceEntries(subnet: string): Record<ServiceKey, Entry> {
  const entry = (key: ServiceKey): Entry => {
    const spec = serviceSpec(key);
    const keys = Object.entries(spec.keys).map(([k, f]) => [k, f.kind === 'pool' ? [seedAddress(subnet, key, k)] : seedAddress(subnet, key, k)]);
    return { ...(spec.optIn ? { enabled: true } : {}), ...Object.fromEntries(keys) };
  };
  return Object.fromEntries(SERVICE_KEYS.map((k) => [k, entry(k)])) as Record<ServiceKey, Entry>;
}

