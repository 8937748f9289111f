import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { isCidr, isIPv4, parseRange } from './ip.js';

/**
 * lab.yaml v1: the one schema. Types are inferred from it, the JSON Schema is exported from it,
 * and defaults live in DEFAULTS. Cross-field rules (subnets, duplicates, roles) are in rules.ts.
 * Objects are strict so a misspelt key is an error, not a silently ignored setting.
 */

// labgen parses one small document per run: compiling zod's JIT parsers costs more than it saves
z.config({ jitless: true });

const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const label = z
  .string()
  .regex(RFC1123_LABEL, 'must be an RFC 1123 name: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters');

const domain = z
  .string()
  .max(253)
  .refine((s) => s.split('.').every((part) => RFC1123_LABEL.test(part)), 'must be a DNS domain of RFC 1123 labels (e.g. home.lab)');

export const ipv4 = z.string().refine(isIPv4, 'must be an IPv4 address like 10.0.0.2');
const cidr = z.string().refine(isCidr, 'must be an IPv4 subnet in CIDR form like 10.0.0.0/24');
const ipRange = z.string().refine((s) => parseRange(s) !== undefined, 'must be a range "FIRST-LAST" (first ≤ last) or a CIDR');
const size = z.string().regex(/^[1-9]\d*[MGT]$/, 'must be a size like 512M, 20G or 1T');
const absPath = z.string().regex(/^\/[^\s]*$/, 'must be an absolute path without spaces, like /dev/sda');

const vm = z.strictObject({
  name: label.default(DEFAULTS.cluster.controlPlane.name),
  ip: ipv4,
  cpus: z.int().min(1).max(64).default(DEFAULTS.cluster.controlPlane.cpus),
  memory: z.int().min(1024).max(262144).default(DEFAULTS.cluster.controlPlane.memory).describe('MiB'),
});

const workers = z.strictObject({
  count: z.int().min(0).max(100).default(DEFAULTS.cluster.workers.count),
  namePrefix: z
    .string()
    .regex(/^[a-z0-9][-a-z0-9]*$/, 'must start an RFC 1123 name: lower-case letters, digits and "-"')
    .default(DEFAULTS.cluster.workers.namePrefix),
  firstIp: ipv4.optional().describe('IP of worker 0; the others follow it. Required when count > 0'),
  cpus: z.int().min(1).max(64).default(DEFAULTS.cluster.workers.cpus),
  memory: z.int().min(1024).max(262144).default(DEFAULTS.cluster.workers.memory).describe('MiB'),
});

export const PI_OS = ['bullseye', 'bookworm', 'trixie'] as const;
export const PI_MODELS = ['pi3', 'pi4', 'pi5'] as const;
export const PI_ROLES = ['compute', 'storage', 'aptcache'] as const;

const piNode = z.strictObject({
  name: label,
  ip: ipv4,
  roles: z.array(z.enum(PI_ROLES)).default([...DEFAULTS.pis.roles]),
  os: z.enum(PI_OS).optional().describe('overrides pis.os for this Pi'),
  model: z.enum(PI_MODELS).optional().describe('overrides pis.model for this Pi'),
  cpus: z.int().min(1).max(256).optional().describe('Slurm CPUs; default from the model'),
  memory: z.int().min(64).optional().describe('Slurm RealMemory in MiB; default from the model'),
});

const enabled = z.boolean().default(true);
const service = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ enabled, ...shape });

export const labSchema = z.strictObject({
  $schema: z.string().optional().describe('JSON Schema for editors; ignored by labgen'),
  version: z.literal(1, { error: 'must be 1 (the lab.yaml format this labgen reads)' }),
  name: label.default(DEFAULTS.name),
  domain: domain.default(DEFAULTS.domain),
  network: z
    .strictObject({
      subnet: cidr.default(DEFAULTS.network.subnet),
      gateway: ipv4.optional().describe('default: the first address of the subnet'),
      dns: z.array(ipv4).optional().describe('lab DNS first; default: services.coredns.ip, else the gateway'),
      upstreamDns: z.array(ipv4).min(1).default([...DEFAULTS.network.upstreamDns]),
      dhcpRange: ipRange.optional().describe('addresses your DHCP server hands out; kept clear of static IPs'),
    })
    .prefault({}),
  cluster: z
    .strictObject({
      provider: z.enum(['virtualbox', 'libvirt']).default(DEFAULTS.cluster.provider),
      box: z.string().min(1).default(DEFAULTS.cluster.box),
      bridge: z.string().min(1).default(DEFAULTS.cluster.bridge).describe('host adapter the VMs bridge to (the Pi LAN)'),
      kubernetesVersion: z
        .string()
        .regex(/^1\.\d{1,3}(\.\d{1,3})?$/, 'must be a Kubernetes version like "1.34" or "1.34.2"')
        .default(DEFAULTS.cluster.kubernetesVersion),
      cni: z.enum(['flannel', 'calico', 'cilium']).default(DEFAULTS.cluster.cni),
      podSubnet: cidr.default(DEFAULTS.cluster.podSubnet),
      serviceSubnet: cidr.default(DEFAULTS.cluster.serviceSubnet),
      controlPlane: vm,
      workers: workers.prefault({}),
    }),
  pis: z
    .strictObject({
      os: z.enum(PI_OS).default(DEFAULTS.pis.os),
      model: z.enum(PI_MODELS).default(DEFAULTS.pis.model),
      interface: z.string().regex(/^[a-zA-Z0-9_.-]{1,15}$/, 'must be a network interface name like eth0').default(DEFAULTS.pis.interface),
      user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name').default(DEFAULTS.pis.user),
      authorizedKeys: z.array(z.string().min(1)).default([]).describe('public key files that may also log in'),
      nodes: z.array(piNode).default([]),
    })
    .prefault({}),
  storage: z
    .strictObject({
      disk: absPath,
      // an export's name is its partition's ext4 label, which holds at most 16 characters
      exports: z.array(z.strictObject({ name: label.max(16, 'must be at most 16 characters (it is the ext4 label of its partition)'), size })).min(1),
      noRootSquash: z.boolean().default(false).describe("the seed's no_root_squash + chmod 777; off by default"),
    })
    .optional(),
  services: z
    .strictObject({
      metallb: service({ addresses: z.array(ipRange).min(1) }).optional(),
      coredns: service({ ip: ipv4 }).optional(),
      gateway: service({ ip: ipv4 }).optional(),
      certManager: service({}).optional(),
      headlamp: service({}).optional(),
      registry: service({ ip: ipv4, ui: ipv4.optional(), chartmuseum: ipv4.optional() }).optional(),
      monitoring: service({ grafana: ipv4.optional(), prometheus: ipv4.optional(), pushgateway: ipv4.optional() }).optional(),
      logging: z.strictObject({ enabled: z.boolean().default(false), ip: ipv4.optional() }).optional(),
      tftp: service({ ip: ipv4 }).optional(),
      sftp: service({ ip: ipv4 }).optional(),
    })
    .prefault({}),
  slurm: z
    .strictObject({
      controller: z.string().min(1).describe('"k8s" (slurmctld in the cluster) or the name of a Pi'),
      ip: ipv4.optional().describe("slurmctld's LoadBalancer IP when controller is k8s"),
      partition: label.default(DEFAULTS.slurm.partition),
      nodes: z.array(z.string()).min(1),
    })
    .optional(),
});

/** lab.yaml as written (before defaults). */
export type LabInput = z.input<typeof labSchema>;
/** lab.yaml with defaults applied, before the derived defaults of resolve(). */
export type ParsedLab = z.output<typeof labSchema>;
