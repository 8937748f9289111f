import { z } from 'zod';
import { DEFAULTS } from './seed.js';
import { isCidr, isIPv4, parseRange } from './ip.js';
import { isUiIp, SERVICE_KEYS, type ServiceKey, SERVICES, serviceSpec } from './services.js';

/**
 * lab.yaml v1: the one schema. Types are inferred from it, the JSON Schema is exported from it,
 * and defaults live in DEFAULTS. Cross-field rules (subnets, duplicates, roles) are in rules.ts.
 * Objects are strict so a misspelt key is an error, not a silently ignored setting.
 * Every key has a description: editors show it (schema/lab.schema.json) and docs/lab-yaml.md is
 * made from it (generator/model/reference.ts, `npm run docs`).
 */

// labgen parses one small document per run: compiling zod's JIT parsers costs more than it saves
z.config({ jitless: true });

const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The Kubernetes minors labgen knows (each has a row in KUBERNETES_RELEASES, plan/support/versions.ts:
 * release and end-of-life dates, pause image). An end-of-life one is still accepted; generate warns.
 */
export const KUBERNETES_MINORS = ['1.33', '1.34', '1.35', '1.36', '1.37'] as const;
export type KubernetesMinor = (typeof KUBERNETES_MINORS)[number];
const KUBERNETES_VERSION = new RegExp(`^(${KUBERNETES_MINORS.map((m) => m.replace('.', '\\.')).join('|')})(\\.\\d{1,3})?$`);

/** The string formats of lab.yaml: the title editors and the reference show, and what a wrong value is told. */
export const FORMATS = {
  name: {
    title: 'RFC 1123 name',
    message: 'must be an RFC 1123 name: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
  },
  domain: { title: 'DNS domain', message: 'must be a DNS domain of RFC 1123 labels (e.g. home.lab)' },
  ipv4: { title: 'IPv4 address', message: 'must be an IPv4 address like 10.0.0.2' },
  cidr: { title: 'IPv4 subnet', message: 'must be an IPv4 subnet in CIDR form like 10.0.0.0/24' },
  range: { title: 'IPv4 range', message: 'must be a range "FIRST-LAST" (first ≤ last) or a CIDR' },
  size: { title: 'size', message: 'must be a size like 512M, 20G or 1T' },
  path: { title: 'absolute path', message: 'must be an absolute path without spaces, like /dev/sda' },
  namePrefix: { title: 'name prefix', message: 'must start an RFC 1123 name: lower-case letters, digits and "-"' },
  interface: { title: 'interface name', message: 'must be a network interface name like eth0' },
  user: { title: 'Linux user name', message: 'must be a Linux user name' },
  hostAddress: { title: 'host name or address', message: 'must be a host name or an IPv4 address, like bastion.example.org or 203.0.113.7' },
  kubernetesVersion: {
    title: 'Kubernetes version',
    message: `must be a Kubernetes version labgen knows, ${KUBERNETES_MINORS[0]} to ${KUBERNETES_MINORS.at(-1)}, like "${KUBERNETES_MINORS.at(-1)}" or "${KUBERNETES_MINORS.at(-1)}.1"`,
  },
} as const;

const titled = <T extends z.ZodType>(schema: T, format: keyof typeof FORMATS): T => schema.meta({ title: FORMATS[format].title });

export const label = titled(z.string().regex(RFC1123_LABEL, FORMATS.name.message), 'name');

const domain = titled(
  z
    .string()
    .max(253)
    .refine((s) => s.split('.').every((part) => RFC1123_LABEL.test(part)), FORMATS.domain.message),
  'domain',
);

export const ipv4 = titled(z.string().refine(isIPv4, FORMATS.ipv4.message), 'ipv4');
const cidr = titled(z.string().refine(isCidr, FORMATS.cidr.message), 'cidr');
const ipRange = titled(z.string().refine((s) => parseRange(s) !== undefined, FORMATS.range.message), 'range');
const size = titled(z.string().regex(/^[1-9]\d*[MGT]$/, FORMATS.size.message), 'size');
const absPath = titled(z.string().regex(/^\/[^\s]*$/, FORMATS.path.message), 'path');

/** provider existing: a disk of a host for containerd's and the kubelet's data (labgen-prepare-disk, as the storage Pi's disk). */
const dataDisk = absPath.describe(
  'provider existing: an empty disk of the host (no partitions, not the disk holding `/`) that labgen partitions and mounts for /var/lib/containerd and /var/lib/kubelet; left out: they stay on the root disk',
);

/** A host name, or an IPv4 address: where a bastion is reached from this machine. */
const HOST_ADDRESS = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;

const linuxUser = titled(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, FORMATS.user.message), 'user');

const vm = z
  .strictObject({
    name: label.default(DEFAULTS.cluster.controlPlane.name).describe('host name of the control-plane VM (provider existing: of the host)'),
    ip: ipv4.describe("the control plane's address on the Pi LAN; also the address of `api.<domain>`, the Kubernetes API"),
    cpus: z.int().min(1).max(64).default(DEFAULTS.cluster.controlPlane.cpus).describe('virtual CPUs of the VM (Vagrant providers only)'),
    memory: z.int().min(1024).max(262144).default(DEFAULTS.cluster.controlPlane.memory).describe('memory of the VM in MiB (Vagrant providers only)'),
    disk: dataDisk.optional(),
  })
  .describe('the VM that runs `kubeadm init` (provider existing: the host that runs it)');

const existingHost = z
  .strictObject({
    name: label.describe('host name of the worker (its Kubernetes node name)'),
    ip: ipv4.describe('its address on the LAN, where labgen reaches it over SSH'),
    disk: dataDisk.optional(),
  })
  .describe('one worker host that exists already');

const workers = z
  .strictObject({
    count: z.int().min(0).max(100).default(DEFAULTS.cluster.workers.count).describe('how many worker VMs; 0 makes the control plane the whole cluster'),
    namePrefix: titled(z.string().regex(/^[a-z0-9][-a-z0-9]*$/, FORMATS.namePrefix.message), 'namePrefix')
      .default(DEFAULTS.cluster.workers.namePrefix)
      .describe('worker N is named namePrefix + N, counting from 0'),
    firstIp: ipv4.optional().describe('IP of worker 0; the others follow it. Required when count > 0'),
    cpus: z.int().min(1).max(64).default(DEFAULTS.cluster.workers.cpus).describe('virtual CPUs of each worker VM'),
    memory: z.int().min(1024).max(262144).default(DEFAULTS.cluster.workers.memory).describe('memory of each worker VM in MiB'),
    hosts: z.array(existingHost).optional().describe('provider existing: the worker hosts, by name and address (instead of count, namePrefix and firstIp)'),
  })
  .describe('the worker VMs, which join the cluster with `kubeadm join`');

const ssh = z
  .strictObject({
    user: linuxUser.describe('the user labgen logs in as on every host, with the lab key (.labgen/secrets/); root, or one with passwordless sudo'),
    bastion: z
      .strictObject({
        address: titled(z.string().regex(HOST_ADDRESS, FORMATS.hostAddress.message), 'hostAddress').describe('where this machine reaches the jump host'),
        user: linuxUser.optional().describe('the user on the jump host; default: cluster.ssh.user'),
      })
      .optional()
      .describe('a jump host the hosts are reached through (ssh -J); its host key is checked like theirs'),
  })
  .describe('provider existing: how labgen reaches the hosts over SSH');

/** Vagrant's providers, then `existing`: hosts that are there already, reached over SSH. */
export const CLUSTER_PROVIDERS = ['virtualbox', 'libvirt', 'existing'] as const;
export type ClusterProvider = (typeof CLUSTER_PROVIDERS)[number];

export const PI_OS = ['bullseye', 'bookworm', 'trixie'] as const;
export const PI_MODELS = ['pi3', 'pi4', 'pi5'] as const;
export const PI_ROLES = ['compute', 'storage', 'aptcache'] as const;

const piNode = z
  .strictObject({
    name: label.describe('host name of the Pi'),
    ip: ipv4.describe('static address of the Pi on the LAN'),
    roles: z
      .array(z.enum(PI_ROLES))
      .default([...DEFAULTS.pis.roles])
      .describe('compute: a Slurm node; storage: serves the NFS exports of the storage section; aptcache: the apt cache (apt-cacher-ng) every Pi and VM uses'),
    os: z.enum(PI_OS).optional().describe('overrides pis.os for this Pi'),
    model: z.enum(PI_MODELS).optional().describe('overrides pis.model for this Pi'),
    cpus: z.int().min(1).max(256).optional().describe('Slurm CPUs; default from the model (4 on every Pi 3, 4 and 5)'),
    memory: z
      .int()
      .min(64)
      .optional()
      .describe(
        "Slurm RealMemory in MiB: at most what `slurmd -C` prints on this Pi (Slurm drains a node that has less than its RealMemory). Left out, slurm.conf gives this node none: never drained for memory, but jobs cannot ask for memory (--mem)",
      ),
  })
  .describe('one Raspberry Pi');

/**
 * `services.<key>` of one service of the table (services.ts): `enabled`, then its keys. A service
 * that is off is dropped before validation (load.ts), so its keys are checked only when it is on.
 */
function serviceSchema<K extends ServiceKey>(key: K): ServiceSchema<(typeof SERVICES)[K]> {
  const spec = serviceSpec(key);
  const enabled = spec.optIn
    ? z.boolean().default(false).describe(`true turns ${key} on; off by default`)
    : z.boolean().default(true).describe('false turns the service off: it is dropped before validation, so it needs no IP and reserves none');
  const keys = Object.entries(spec.keys).map(([k, f]) => {
    if (f.kind === 'pool') return [k, z.array(ipRange).min(1).describe(f.description)];
    const what = `LoadBalancer IP of ${f.of}, from the MetalLB pool`;
    if (f.required) return [k, ipv4.describe(what)];
    return [k, ipv4.optional().describe(isUiIp(key, k) ? `${what}; left out: reached by name through the gateway` : what)];
  });
  return z.strictObject({ enabled, ...Object.fromEntries(keys) }).optional().describe(spec.about) as unknown as ServiceSchema<(typeof SERVICES)[K]>;
}

/** The zod type serviceSchema() makes, from the table's literal types (so a lab's services are typed). */
type KeySchema<F> = F extends { kind: 'pool' } ? z.ZodArray<typeof ipRange> : F extends { required: true } ? typeof ipv4 : z.ZodOptional<typeof ipv4>;
type ServiceSchema<S extends { keys: object }> = z.ZodOptional<
  z.ZodObject<{ -readonly [K in 'enabled' | keyof S['keys']]: K extends keyof S['keys'] ? KeySchema<S['keys'][K]> : z.ZodDefault<z.ZodBoolean> }, z.core.$strict>
>;

const servicesShape = Object.fromEntries(SERVICE_KEYS.map((k) => [k, serviceSchema(k)])) as { -readonly [K in ServiceKey]: ServiceSchema<(typeof SERVICES)[K]> };

export const labSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema for editors; ignored by labgen'),
    version: z.literal(1, { error: 'must be 1 (the lab.yaml format this labgen reads)' }).describe('the lab.yaml format: always 1'),
    name: label.default(DEFAULTS.name).describe('name of the lab (the Kubernetes cluster name, the Slurm cluster name)'),
    domain: domain.default(DEFAULTS.domain).describe('DNS domain of the lab: every VM, Pi and service is `<name>.<domain>`'),
    network: z
      .strictObject({
        subnet: cidr.default(DEFAULTS.network.subnet).describe('the LAN of the Pis and the VMs'),
        gateway: ipv4.optional().describe('the router of the LAN (in the seed lab, the laptop sharing its Wi-Fi); default: the first address of the subnet'),
        dns: z.array(ipv4).optional().describe('name servers of the Pis and VMs, lab DNS first; default: services.coredns.ip, else the gateway'),
        upstreamDns: z.array(ipv4).min(1).default([...DEFAULTS.network.upstreamDns]).describe('resolvers the lab DNS forwards names outside the lab domain to'),
        dhcpRange: ipRange.optional().describe('addresses your DHCP server hands out; kept clear of static IPs'),
      })
      .prefault({})
      .describe('the LAN: one subnet for the laptop, the VMs and the Pis'),
    cluster: z
      .strictObject({
        provider: z
          .enum(CLUSTER_PROVIDERS)
          .default(DEFAULTS.cluster.provider)
          .describe('Vagrant provider of the VMs; existing: no VMs, hosts you have already (controlPlane, workers.hosts), reached over SSH (cluster.ssh)'),
        box: z.string().min(1).default(DEFAULTS.cluster.box).describe('Vagrant box of the VMs'),
        bridge: z.string().min(1).default(DEFAULTS.cluster.bridge).describe('the VMs\' way onto the Pi LAN: VirtualBox, the host adapter on it; libvirt, a Linux bridge holding that adapter (README.md, step 1)'),
        kubernetesVersion: titled(z.string().regex(KUBERNETES_VERSION, FORMATS.kubernetesVersion.message), 'kubernetesVersion')
          .default(DEFAULTS.cluster.kubernetesVersion)
          .describe(
            'kubeadm, kubelet and kubectl are pinned to it (a minor version takes its latest patch); quote it in YAML. `labgen generate` warns once it has reached end of life',
          ),
        cni: z.enum(['flannel', 'calico', 'cilium']).default(DEFAULTS.cluster.cni).describe('the pod network'),
        podSubnet: cidr.default(DEFAULTS.cluster.podSubnet).describe('addresses of pods; each node takes a /24 of it'),
        serviceSubnet: cidr.default(DEFAULTS.cluster.serviceSubnet).describe('addresses of Kubernetes Services (ClusterIPs)'),
        controlPlane: vm,
        workers: workers.prefault({}),
        ssh: ssh.optional(),
      })
      .describe('Kubernetes on VMs on the laptop (Vagrant + kubeadm), or on hosts you have (provider existing)'),
    pis: z
      .strictObject({
        os: z.enum(PI_OS).default(DEFAULTS.pis.os).describe('Raspberry Pi OS release: bullseye (dhcpcd), bookworm (NetworkManager), trixie (cloud-init)'),
        model: z.enum(PI_MODELS).default(DEFAULTS.pis.model).describe("Raspberry Pi model: the default of a Slurm node's CPUs"),
        interface: titled(z.string().regex(/^[a-zA-Z0-9_.-]{1,15}$/, FORMATS.interface.message), 'interface')
          .default(DEFAULTS.pis.interface)
          .describe('network interface of the Pis on the LAN'),
        user: linuxUser
          .default(DEFAULTS.pis.user)
          .describe('the user labgen logs in as over SSH (with the lab key it makes)'),
        authorizedKeys: z.array(z.string().min(1)).default([]).describe('public key files that may also log in'),
        nodes: z.array(piNode).default([]).describe('the Pis'),
      })
      .prefault({})
      .describe('the Raspberry Pis on the LAN'),
    storage: z
      .strictObject({
        disk: absPath.describe('the disk of the storage Pi that holds the exports'),
        // an export's name is its partition's ext4 label, which holds at most 16 characters
        exports: z
          .array(
            z
              .strictObject({
                name: label
                  .max(16, 'must be at most 16 characters (it is the ext4 label of its partition)')
                  .describe("name of the export: its partition's ext4 label and its folder `/srv/nfs/<name>` on the storage Pi"),
                size: size.describe('size of its partition'),
              })
              .describe('one NFS export: a partition of disk'),
          )
          .min(1)
          .describe('the NFS exports, one partition of disk each'),
        noRootSquash: z.boolean().default(false).describe("the seed's no_root_squash + chmod 777; off by default"),
      })
      .optional()
      .describe('NFS on the Pi with role storage; left out: no storage Pi'),
    services: z
      .strictObject(servicesShape)
      .prefault({})
      .describe('Kubernetes add-ons; a service left out is off'),
    slurm: z
      .strictObject({
        controller: z.string().min(1).describe('"k8s" (slurmctld in the cluster) or the name of a Pi'),
        ip: ipv4.optional().describe("slurmctld's LoadBalancer IP when controller is k8s"),
        partition: label.default(DEFAULTS.slurm.partition).describe('the one Slurm partition, holding every node'),
        nodes: z.array(z.string()).min(1).describe('names of the Pis that run Slurm jobs'),
      })
      .optional()
      .describe('Slurm on the Pis; left out: no Slurm'),
  })
  .describe('lab.yaml v1');

/** lab.yaml as written (before defaults). */
export type LabInput = z.input<typeof labSchema>;
/** lab.yaml with defaults applied, before the derived defaults of resolve(). */
export type ParsedLab = z.output<typeof labSchema>;
