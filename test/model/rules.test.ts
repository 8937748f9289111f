import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { problems } from './support.js';
import { EXIT, LabgenError, LabValidationError } from '../../generator/errors.js';
import { vms } from '../../generator/model/hosts.js';
import { intToIp, ipToInt } from '../../generator/model/ip.js';
import { labJsonSchema } from '../../generator/model/json-schema.js';
import { loadLab, parseLabYaml, validateLab } from '../../generator/model/load.js';

/** The model in-process: defaults, every cross-field rule with its message and path, scale. */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// lab.yaml as a plain object, before validation: tests poke at it freely
type Raw = Record<string, any>;

/** A valid lab close to the seed 003 lab: every rule below breaks it in one place. */
const base = (): Raw => ({
  version: 1,
  name: 'homelab',
  domain: 'home.lab',
  network: { subnet: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.21'], dhcpRange: '10.0.0.150-10.0.0.199' },
  cluster: {
    podSubnet: '10.244.0.0/16',
    serviceSubnet: '10.96.0.0/12',
    controlPlane: { name: 'kv-master-0', ip: '10.0.0.210' },
    workers: { count: 2, namePrefix: 'kv-worker-', firstIp: '10.0.0.220' },
  },
  pis: {
    nodes: [
      { name: 'node01', ip: '10.0.0.2', roles: ['storage', 'aptcache'] },
      { name: 'node02', ip: '10.0.0.3', roles: ['compute'] },
      { name: 'node03', ip: '10.0.0.4', roles: ['compute'] },
    ],
  },
  storage: { disk: '/dev/sda', exports: [{ name: 'vol1', size: '20G' }] },
  services: {
    metallb: { addresses: ['10.0.0.10-10.0.0.49'] },
    coredns: { ip: '10.0.0.21' },
    gateway: { ip: '10.0.0.25' },
    certManager: {},
    registry: { ip: '10.0.0.26' },
    monitoring: { grafana: '10.0.0.31', prometheus: '10.0.0.32' },
  },
  slurm: { controller: 'k8s', ip: '10.0.0.28', nodes: ['node02', 'node03'] },
});

/** The base lab with one edit applied. */
function variant(edit: (lab: Raw) => void): Raw {
  const lab = base();
  edit(lab);
  return lab;
}

describe('valid labs', () => {
  it('the base lab of these tests is valid', () => {
    expect(problems(base())).toEqual([]);
  });

  it('a bullseye Slurm node (Slurm 20.11) works with a bookworm slurmctld (22.05, two majors on)', () => {
    expect(problems(variant((l) => (l.pis.nodes[2].os = 'bullseye')))).toEqual([]);
    const piController = (l: Raw) => {
      l.slurm.controller = 'node02';
      delete l.slurm.ip;
      l.pis.nodes[2].os = 'bullseye';
    };
    expect(problems(variant(piController))).toEqual([]);
  });

  it('labs/rpi-slurm/lab.yaml (the seed 003 lab) loads', () => {
    const lab = loadLab(join(ROOT, 'labs/rpi-slurm/lab.yaml'));
    expect(lab.name).toBe('homelab');
    expect(lab.pis.nodes.map((n) => n.name)).toEqual(['node01', 'node02', 'node03', 'node04', 'node05']);
    expect(lab.network.dns).toEqual(['10.0.0.21']);
    expect(lab.slurm?.nodes).toEqual(['node02', 'node03', 'node04', 'node05']);
    expect(vms(lab).map((v) => `${v.name}=${v.ip}`)).toEqual([
      'kv-master-0=10.0.0.210',
      'kv-worker-0=10.0.0.220',
      'kv-worker-1=10.0.0.221',
      'kv-worker-2=10.0.0.222',
    ]);
  });

  it('labs/minimal/lab.yaml loads, defaults filling the rest', () => {
    const lab = loadLab(join(ROOT, 'labs/minimal/lab.yaml'));
    expect(lab.name).toBe('minilab');
    expect(lab.cluster.workers.count).toBe(0);
    expect(vms(lab)).toHaveLength(1);
    expect(lab.network.dns).toEqual(['192.168.50.100']); // CoreDNS's IP
    expect(lab.pis.nodes[1]).toMatchObject({ name: 'pi-b', roles: ['compute'], model: 'pi5' });
    expect(lab.slurm).toMatchObject({ controller: 'pi-a', partition: 'allnodes' });
  });
});

describe('defaults', () => {
  const smallest = { version: 1, cluster: { controlPlane: { ip: '10.0.0.10' }, workers: { count: 0 } } };

  it('fill a lab that gives only the version and the control plane IP', () => {
    const lab = validateLab(smallest);
    expect(lab).toMatchObject({
      name: 'homelab',
      domain: 'home.lab',
      network: { subnet: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], upstreamDns: ['8.8.8.8'] },
      cluster: {
        provider: 'virtualbox',
        box: 'bento/ubuntu-24.04',
        bridge: 'eth0',
        kubernetesVersion: '1.37',
        cni: 'flannel',
        podSubnet: '10.244.0.0/16',
        serviceSubnet: '10.96.0.0/12',
        controlPlane: { name: 'kv-master-0', ip: '10.0.0.10', cpus: 2, memory: 4096 },
        workers: { count: 0, namePrefix: 'kv-worker-', cpus: 2, memory: 2048 },
      },
      pis: { os: 'bookworm', model: 'pi4', interface: 'eth0', user: 'pi', authorizedKeys: [], nodes: [] },
      services: {},
    });
    expect(lab.network.dhcpRange).toBeUndefined();
    expect(lab.storage).toBeUndefined();
    expect(lab.slurm).toBeUndefined();
  });

  it('the gateway is the first host of the subnet', () => {
    const lab = validateLab({ ...smallest, network: { subnet: '192.168.50.0/24' }, cluster: { controlPlane: { ip: '192.168.50.10' }, workers: { count: 0 } } });
    expect(lab.network.gateway).toBe('192.168.50.1');
    expect(lab.network.dns).toEqual(['192.168.50.1']);
  });

  it('lab DNS is the CoreDNS IP when CoreDNS is on, else the gateway; a dns list given wins', () => {
    const withCoredns = { ...smallest, services: { metallb: { addresses: ['10.0.0.100-10.0.0.110'] }, coredns: { ip: '10.0.0.101' } } };
    expect(validateLab(withCoredns).network.dns).toEqual(['10.0.0.101']);
    const corednsOff = { ...withCoredns, services: { ...withCoredns.services, coredns: { enabled: false, ip: '10.0.0.101' } } };
    expect(validateLab(corednsOff).network.dns).toEqual(['10.0.0.1']);
    const given = { ...withCoredns, network: { dns: ['10.0.0.101', '1.1.1.1'] } };
    expect(validateLab(given).network.dns).toEqual(['10.0.0.101', '1.1.1.1']);
  });

  it('workers: three kv-worker-N VMs with 2 CPUs and 2048 MiB, on consecutive IPs from firstIp', () => {
    const lab = validateLab({ version: 1, cluster: { controlPlane: { ip: '10.0.0.10' }, workers: { firstIp: '10.0.0.20' } } });
    expect(lab.cluster.workers).toEqual({ count: 3, namePrefix: 'kv-worker-', firstIp: '10.0.0.20', cpus: 2, memory: 2048 });
    expect(vms(lab).filter((v) => v.role === 'worker')).toEqual([
      { name: 'kv-worker-0', ip: '10.0.0.20', cpus: 2, memory: 2048, role: 'worker', path: 'cluster.workers.firstIp (+0)' },
      { name: 'kv-worker-1', ip: '10.0.0.21', cpus: 2, memory: 2048, role: 'worker', path: 'cluster.workers.firstIp (+1)' },
      { name: 'kv-worker-2', ip: '10.0.0.22', cpus: 2, memory: 2048, role: 'worker', path: 'cluster.workers.firstIp (+2)' },
    ]);
  });

  it('a Pi computes unless told otherwise; services are on; storage keeps root squash; slurm has a partition', () => {
    const lab = validateLab(base());
    expect(lab.pis.nodes[1]!.roles).toEqual(['compute']);
    expect(validateLab(variant((l) => delete l.pis.nodes[2].roles)).pis.nodes[2]!.roles).toEqual(['compute']);
    expect(lab.services.coredns?.enabled).toBe(true);
    expect(lab.services.metallb?.enabled).toBe(true);
    expect(lab.storage?.noRootSquash).toBe(false);
    expect(lab.slurm?.partition).toBe('allnodes');
  });
});

/**
 * Each cross-field rule, broken alone in the base lab: exactly these problems, each starting
 * with the lab.yaml path of the field to fix.
 */
const RULE_CASES: [string, (lab: Raw) => void, string[]][] = [
  // network.subnet well formed
  ['subnet is not a network address', (l) => (l.network.subnet = '10.0.0.5/24'), ['network.subnet: 10.0.0.5/24 is not a network address; did you mean 10.0.0.0/24?']],
  // everything inside the subnet
  ['Pi outside the subnet', (l) => (l.pis.nodes[1].ip = '10.0.1.3'), ['pis.nodes[1].ip: 10.0.1.3 is outside network.subnet 10.0.0.0/24']],
  ['VM outside the subnet', (l) => (l.cluster.controlPlane.ip = '192.168.1.210'), ['cluster.controlPlane.ip: 192.168.1.210 is outside network.subnet 10.0.0.0/24']],
  ['gateway outside the subnet', (l) => (l.network.gateway = '192.168.1.1'), ['network.gateway: 192.168.1.1 is outside network.subnet 10.0.0.0/24']],
  [
    'service outside the subnet (and so outside the pool)',
    (l) => (l.services.monitoring.grafana = '10.0.1.31'),
    ['services.monitoring.grafana: 10.0.1.31 is outside network.subnet 10.0.0.0/24', 'services.monitoring.grafana: 10.0.1.31 is not in the MetalLB pool 10.0.0.10-10.0.0.49'],
  ],
  ['Pi on the broadcast address', (l) => (l.pis.nodes[2].ip = '10.0.0.255'), ['pis.nodes[2].ip: 10.0.0.255 is outside network.subnet 10.0.0.0/24 (network or broadcast address)']],
  ['gateway on the network address', (l) => (l.network.gateway = '10.0.0.0'), ['network.gateway: 10.0.0.0 is outside network.subnet 10.0.0.0/24 (network or broadcast address)']],
  ['DHCP range past the subnet', (l) => (l.network.dhcpRange = '10.0.0.240-10.0.1.10'), ['network.dhcpRange: 10.0.0.240-10.0.1.10 is not inside network.subnet 10.0.0.0/24']],
  [
    'MetalLB pool outside the subnet',
    (l) => l.services.metallb.addresses.push('10.0.1.0/28'),
    ['services.metallb.addresses[1]: 10.0.1.0-10.0.1.15 is not inside network.subnet 10.0.0.0/24'],
  ],
  // workers
  ['workers without firstIp', (l) => delete l.cluster.workers.firstIp, ['cluster.workers.firstIp: required when cluster.workers.count is 2']],
  [
    'worker run past the end of the subnet',
    (l) => Object.assign(l.cluster.workers, { count: 4, firstIp: '10.0.0.252' }),
    [
      'cluster.workers.firstIp (+3): 10.0.0.255 is outside network.subnet 10.0.0.0/24 (network or broadcast address)',
      'cluster.workers: 4 workers from 10.0.0.252 run to 10.0.0.255, past the end of network.subnet 10.0.0.0/24',
    ],
  ],
  [
    'worker prefix making names over 63 characters',
    (l) => (l.cluster.workers.namePrefix = `${'w'.repeat(63)}-`),
    [`cluster.workers.namePrefix: "${'w'.repeat(63)}-1" is not an RFC 1123 name (over 63 characters)`],
  ],
  // no address twice
  ['same IP on two Pis', (l) => (l.pis.nodes[2].ip = '10.0.0.3'), ['pis.nodes[2].ip: 10.0.0.3 is already used by pis.nodes[1] (node02)']],
  ['a Pi on the control plane IP', (l) => (l.pis.nodes[2].ip = '10.0.0.210'), ['pis.nodes[2].ip: 10.0.0.210 is already used by cluster.controlPlane (kv-master-0)']],
  ['the control plane on the gateway IP', (l) => (l.cluster.controlPlane.ip = '10.0.0.1'), ['cluster.controlPlane.ip: 10.0.0.1 is already used by network.gateway']],
  [
    'a Pi inside the worker run',
    (l) => (l.pis.nodes[2].ip = '10.0.0.221'),
    ['pis.nodes[2].ip: 10.0.0.221 is already used by cluster.workers.firstIp (+1) (kv-worker-1)'],
  ],
  ['two services on one IP', (l) => (l.services.gateway.ip = '10.0.0.21'), ['services.gateway.ip: 10.0.0.21 is already used by services.coredns (dns)']],
  // no name twice
  [
    'two Pis with one name',
    (l) => {
      l.pis.nodes[2].name = 'node02';
      l.slurm.nodes = ['node02'];
    },
    ['pis.nodes[2].name: name "node02" is already used by pis.nodes[1].name'],
  ],
  [
    'a Pi named like the control plane',
    (l) => {
      l.pis.nodes[2].name = 'kv-master-0';
      l.slurm.nodes = ['node02'];
    },
    ['pis.nodes[2].name: name "kv-master-0" is already used by cluster.controlPlane.name'],
  ],
  [
    'a Pi named like a worker',
    (l) => {
      l.pis.nodes[2].name = 'kv-worker-1';
      l.slurm.nodes = ['node02'];
    },
    ['pis.nodes[2].name: name "kv-worker-1" is already used by cluster.workers.namePrefix'],
  ],
  [
    'a Pi named like a service',
    (l) => {
      l.pis.nodes[2].name = 'grafana';
      l.slurm.nodes = ['node02'];
    },
    ['pis.nodes[2].name: name "grafana" is already used by services.monitoring.grafana'],
  ],
  // MetalLB pool clear of static IPs, the DHCP range and itself
  [
    'a static IP inside the pool',
    (l) => (l.services.metallb.addresses = ['10.0.0.4-10.0.0.49']),
    ['services.metallb.addresses[0]: 10.0.0.4-10.0.0.49 contains 10.0.0.4 of pis.nodes[2] (node03)'],
  ],
  [
    'the pool overlapping the DHCP range',
    (l) => (l.services.metallb.addresses = ['10.0.0.10-10.0.0.160']),
    ['services.metallb.addresses[0]: 10.0.0.10-10.0.0.160 overlaps network.dhcpRange 10.0.0.150-10.0.0.199'],
  ],
  [
    'two overlapping pools',
    (l) => l.services.metallb.addresses.push('10.0.0.40-10.0.0.59'),
    ['services.metallb.addresses[1]: 10.0.0.40-10.0.0.59 overlaps services.metallb.addresses[0]'],
  ],
  // DHCP range clear of static IPs
  [
    'a static IP inside the DHCP range',
    (l) => (l.pis.nodes[2].ip = '10.0.0.160'),
    ['pis.nodes[2].ip: 10.0.0.160 is inside network.dhcpRange 10.0.0.150-10.0.0.199; a static address there can be handed to another host'],
  ],
  // service IPs come from the pool
  ['a service IP outside the pool', (l) => (l.services.monitoring.prometheus = '10.0.0.100'), ['services.monitoring.prometheus: 10.0.0.100 is not in the MetalLB pool 10.0.0.10-10.0.0.49']],
  ['service IPs without MetalLB', (l) => delete l.services.metallb, ['services.metallb: required (and enabled) because services.coredns.ip asks for a LoadBalancer IP']],
  ['service IPs with MetalLB off', (l) => (l.services.metallb.enabled = false), ['services.metallb: required (and enabled) because services.coredns.ip asks for a LoadBalancer IP']],
  // cluster subnets clear of the LAN and each other
  ['pod subnet over the LAN', (l) => (l.cluster.podSubnet = '10.0.0.0/16'), ['cluster.podSubnet: 10.0.0.0/16 overlaps the LAN network.subnet 10.0.0.0/24']],
  ['service subnet over the LAN', (l) => (l.cluster.serviceSubnet = '10.0.0.0/12'), ['cluster.serviceSubnet: 10.0.0.0/12 overlaps the LAN network.subnet 10.0.0.0/24']],
  ['pod and service subnets overlapping', (l) => (l.cluster.serviceSubnet = '10.244.128.0/20'), ['cluster.serviceSubnet: 10.244.128.0/20 overlaps cluster.podSubnet 10.244.0.0/16']],
  // roles and storage
  ['storage without a storage Pi', (l) => (l.pis.nodes[0].roles = ['aptcache']), ['storage: needs exactly one Pi with role storage, found 0']],
  ['a storage Pi without storage', (l) => delete l.storage, ['pis.nodes[0].roles: node01 has role storage but there is no storage section']],
  ['two storage Pis', (l) => (l.pis.nodes[1].roles = ['storage', 'compute']), ['storage: needs exactly one Pi with role storage, found 2 (node01, node02)']],
  ['two apt cache Pis', (l) => (l.pis.nodes[2].roles = ['aptcache', 'compute']), ['pis.nodes[2].roles: at most one Pi may have role aptcache; node01 and node03 both do']],
  ['a role twice', (l) => (l.pis.nodes[1].roles = ['compute', 'compute']), ['pis.nodes[1].roles: role compute is listed twice']],
  ['two exports with one name', (l) => l.storage.exports.push({ name: 'vol1', size: '50G' }), ['storage.exports[1].name: export "vol1" is listed twice']],
  // slurm
  ['slurmctld in k8s without an IP', (l) => delete l.slurm.ip, ['slurm.ip: required when slurm.controller is k8s (the LoadBalancer IP the Pis reach slurmctld at)']],
  [
    'a controller that is neither k8s nor a Pi',
    (l) => {
      l.slurm.controller = 'kv-master-0';
      delete l.slurm.ip;
    },
    ['slurm.controller: "kv-master-0" is neither k8s nor the name of a Pi in pis.nodes'],
  ],
  [
    'a Pi controller with an IP',
    (l) => (l.slurm.controller = 'node02'),
    ['slurm.ip: only used when slurm.controller is k8s; a Pi controller is reached at its own IP'],
  ],
  ['a Slurm node that is not a Pi', (l) => l.slurm.nodes.push('kv-worker-0'), ['slurm.nodes[2]: "kv-worker-0" is not the name of a Pi in pis.nodes']],
  ['a Slurm node twice', (l) => l.slurm.nodes.push('node02'), ['slurm.nodes[2]: "node02" is listed twice']],
  // Slurm releases that can talk: Raspberry Pi OS bookworm has Slurm 22.05, trixie 24.11
  [
    'a trixie Slurm node of a bookworm controller Pi',
    (l) => {
      l.slurm.controller = 'node02';
      delete l.slurm.ip;
      l.pis.nodes[2].os = 'trixie';
    },
    [
      'slurm.nodes[1]: "node03" runs trixie, Slurm 24.11, newer than slurmctld on node02 (bookworm), Slurm 22.05: slurmctld must be at least as new as every slurmd; put the Slurm Pis on one Raspberry Pi OS release (pis.nodes[].os)',
    ],
  ],
  [
    'a bookworm Slurm node beside a trixie one, slurmctld in k8s',
    (l) => (l.pis.nodes[1].os = 'trixie'),
    [
      'slurm.nodes[1]: "node03" runs bookworm, Slurm 22.05, too old for slurmctld in k8s (built from trixie, the newest release of slurm.nodes), Slurm 24.11, which talks to slurmd 23.02 and newer; put the Slurm Pis on one Raspberry Pi OS release (pis.nodes[].os)',
    ],
  ],
];

describe('each cross-field rule reports its problem with the path', () => {
  it.each(RULE_CASES)('%s', (_, edit, expected) => {
    expect(problems(variant(edit))).toEqual(expected);
  });
});

describe('field (schema) problems carry their path too', () => {
  const FIELD_CASES: [string, (lab: Raw) => void, string][] = [
    ['wrong version', (l) => (l.version = 2), 'version: must be 1 (the lab.yaml format this labgen reads) (got 2)'],
    ['a misspelt key at depth', (l) => (l.pis.nodes[1].rols = l.pis.nodes[1].roles), 'pis.nodes[1].rols: unknown key (check its spelling against the lab.yaml reference)'],
    ['a bad IP', (l) => (l.pis.nodes[1].ip = '10.0.0.300'), 'pis.nodes[1].ip: must be an IPv4 address like 10.0.0.2 (got "10.0.0.300")'],
    ['a bad CIDR', (l) => (l.network.subnet = '10.0.0.0/33'), 'network.subnet: must be an IPv4 subnet in CIDR form like 10.0.0.0/24 (got "10.0.0.0/33")'],
    ['a reversed DHCP range', (l) => (l.network.dhcpRange = '10.0.0.199-10.0.0.150'), 'network.dhcpRange: must be a range "FIRST-LAST" (first ≤ last) or a CIDR (got "10.0.0.199-10.0.0.150")'],
    ['an upper-case name', (l) => (l.pis.nodes[1].name = 'Node02'), 'pis.nodes[1].name: must be an RFC 1123 name: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters (got "Node02")'],
    ['a bad Kubernetes version', (l) => (l.cluster.kubernetesVersion = 'v1.34'), 'cluster.kubernetesVersion: must be a Kubernetes version labgen knows, 1.33 to 1.37, like "1.37" or "1.37.1" (got "v1.34")'],
    ['a Kubernetes minor labgen does not know', (l) => (l.cluster.kubernetesVersion = '1.32'), 'cluster.kubernetesVersion: must be a Kubernetes version labgen knows, 1.33 to 1.37, like "1.37" or "1.37.1" (got "1.32")'],
    ['a bad export size', (l) => (l.storage.exports[0].size = '20GB'), 'storage.exports[0].size: must be a size like 512M, 20G or 1T (got "20GB")'],
  ];
  it.each(FIELD_CASES)('%s', (_, edit, expected) => {
    expect(problems(variant(edit))).toEqual([expected]);
  });
});

describe('every problem at once', () => {
  it('a lab breaking 4 different rules gets 4 messages', () => {
    const lab = variant((l) => {
      l.pis.nodes[2].ip = '10.0.0.3'; // duplicate IP
      l.cluster.podSubnet = '10.0.0.0/16'; // pod subnet over the LAN
      l.pis.nodes[2].roles = ['aptcache']; // a second apt cache
      l.slurm.nodes = ['node02', 'node3']; // a Slurm node that is no Pi
    });
    expect(problems(lab)).toEqual([
      'pis.nodes[2].ip: 10.0.0.3 is already used by pis.nodes[1] (node02)',
      'cluster.podSubnet: 10.0.0.0/16 overlaps the LAN network.subnet 10.0.0.0/24',
      'pis.nodes[2].roles: at most one Pi may have role aptcache; node01 and node03 both do',
      'slurm.nodes[1]: "node3" is not the name of a Pi in pis.nodes',
    ]);
  });

  it('a lab with 3 field errors gets 3 messages', () => {
    const lab = variant((l) => {
      l.cluster.cni = 'weave';
      l.pis.nodes[0].ip = '10.0.0';
      l.services.monitoring.grafna = '10.0.0.31';
    });
    expect(problems(lab)).toHaveLength(3);
    expect(problems(lab).map((p) => p.slice(0, p.indexOf(':')))).toEqual(['cluster.cni', 'pis.nodes[0].ip', 'services.monitoring.grafna']);
  });

  it('the error is a LabgenError with exit code 2 that lists every problem under the file name', () => {
    const lab = variant((l) => {
      l.pis.nodes[2].ip = '10.0.0.3';
      l.cluster.podSubnet = '10.0.0.0/16';
    });
    let error: unknown;
    try {
      validateLab(lab, 'labs/x/lab.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LabValidationError);
    expect(error).toBeInstanceOf(LabgenError);
    const e = error as LabValidationError;
    expect(e.code).toBe(EXIT.badInput);
    expect(e.code).toBe(2);
    expect(e.message).toBe(
      [
        'labs/x/lab.yaml is not a valid lab:',
        '  - pis.nodes[2].ip: 10.0.0.3 is already used by pis.nodes[1] (node02)',
        '  - cluster.podSubnet: 10.0.0.0/16 overlaps the LAN network.subnet 10.0.0.0/24',
      ].join('\n'),
    );
    expect(e.hint).toBeTruthy();
  });
});

describe('parseLabYaml', () => {
  it('a YAML syntax error names line and column, exit code 2', () => {
    const text = 'version: 1\ncluster:\n  controlPlane: { ip: 10.0.0.10\n  workers: { count: 0 }\n';
    expect(() => parseLabYaml(text, 'lab.yaml')).toThrow(/^lab\.yaml: YAML syntax error at line \d+, column \d+: /);
    try {
      parseLabYaml(text);
    } catch (e) {
      expect(e).toBeInstanceOf(LabgenError);
      expect((e as LabgenError).code).toBe(2);
    }
  });

  it.each([
    ['an empty file', ''],
    ['only comments', '# nothing yet\n'],
    ['a list', '- version: 1\n'],
    ['a scalar', 'homelab\n'],
  ])('%s is not a lab', (_, text) => {
    expect(() => parseLabYaml(text)).toThrow(LabValidationError);
    expect(() => parseLabYaml(text)).toThrow('(top level): must be a mapping with at least "version: 1"');
  });
});

describe('scale', () => {
  /** A /16 lab with 500 Pis, 10 workers, every service and a Slurm partition of 499 nodes. */
  function bigLab(): Raw {
    const first = ipToInt('10.1.1.1');
    const nodes = Array.from({ length: 500 }, (_, i) => ({
      name: `node${String(i).padStart(3, '0')}`,
      ip: intToIp(first + i),
      roles: i === 0 ? ['storage', 'aptcache'] : ['compute'],
    }));
    return {
      version: 1,
      name: 'biglab',
      network: { subnet: '10.1.0.0/16', dhcpRange: '10.1.200.0-10.1.200.255' },
      cluster: { controlPlane: { ip: '10.1.0.200' }, workers: { count: 10, firstIp: '10.1.0.210' } },
      pis: { nodes },
      storage: { disk: '/dev/sda', exports: [{ name: 'vol1', size: '1T' }] },
      services: {
        metallb: { addresses: ['10.1.0.10-10.1.0.99'] },
        coredns: { ip: '10.1.0.10' },
        gateway: { ip: '10.1.0.11' },
        certManager: {},
        registry: { ip: '10.1.0.12', ui: '10.1.0.13', chartmuseum: '10.1.0.14' },
        monitoring: { grafana: '10.1.0.15', prometheus: '10.1.0.16', pushgateway: '10.1.0.17' },
      },
      slurm: { controller: 'k8s', ip: '10.1.0.20', nodes: nodes.slice(1).map((n) => n.name) },
    };
  }

  it('a /16 lab with 500 Pis is valid and validates in under a second', () => {
    const input = bigLab();
    const start = performance.now();
    const lab = validateLab(input);
    const ms = performance.now() - start;
    expect(lab.pis.nodes).toHaveLength(500);
    expect(lab.network.gateway).toBe('10.1.0.1');
    expect(ms).toBeLessThan(1000);
  });

  it('and still reports a single duplicate among the 500', () => {
    const input = bigLab();
    input.pis.nodes[499].ip = input.pis.nodes[7].ip;
    expect(problems(input)).toEqual(['pis.nodes[499].ip: 10.1.1.8 is already used by pis.nodes[7] (node007)']);
  });
});

describe('JSON Schema export', () => {
  const schema = labJsonSchema() as Record<string, any>;

  it('is a plain JSON object', () => {
    expect(typeof schema).toBe('object');
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    expect(schema.type).toBe('object');
  });

  it('lists the top-level keys of lab.yaml v1 and requires the version', () => {
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['version', 'network', 'cluster', 'pis', 'services', 'slurm', 'storage']));
    expect(schema.required).toContain('version');
  });

  it('rejects unknown keys, so an editor flags a misspelt one', () => {
    expect(schema.additionalProperties).toBe(false);
  });
});

/** Rules these tests once found missing (each was a bug; now each is a plain test). */
describe('rules found by testing', () => {
  it('a Pi named "api" is blamed on its own path, not on "the Kubernetes API name"', () => {
    const lab = variant((l) => {
      l.pis.nodes[2].name = 'api';
      l.slurm.nodes = ['node02'];
    });
    expect(problems(lab)).toEqual([expect.stringMatching(/^pis\.nodes\[2\]\.name: .*"api"/)]);
  });

  it('a disabled service needs no IP (services.coredns: { enabled: false })', () => {
    const lab = variant((l) => {
      l.services = { metallb: { addresses: ['10.0.0.10-10.0.0.49'] }, coredns: { enabled: false } };
      l.network.dns = ['10.0.0.1'];
      delete l.slurm.ip;
      l.slurm.controller = 'node02';
    });
    expect(problems(lab)).toEqual([]);
  });

  it('a disabled MetalLB needs no addresses (services.metallb: { enabled: false })', () => {
    const lab = { version: 1, cluster: { controlPlane: { ip: '10.0.0.10' }, workers: { count: 0 } }, services: { metallb: { enabled: false } } };
    expect(problems(lab)).toEqual([]);
  });

  // kubeadm's ValidateServiceSubnetSize (the same check as kube-apiserver's): "specified service
  // subnet is too large; for 32-bit addresses, the mask must be >= 12".
  it('a service subnet larger than /12 is rejected with its path', () => {
    const lab = variant((l) => (l.cluster.serviceSubnet = '172.0.0.0/11'));
    expect(problems(lab)).toEqual([expect.stringMatching(/^cluster\.serviceSubnet: 172\.0\.0\.0\/11 /)]);
  });

  // kubeadm's ValidatePodSubnetNodeMask: each node gets a /24 of the pod subnet (the default
  // node-cidr-mask-size), so "the size of pod subnet with mask 25 is smaller than the size of node
  // subnet with mask 24".
  it('a pod subnet smaller than one node\'s /24 is rejected with its path', () => {
    const lab = variant((l) => (l.cluster.podSubnet = '10.244.0.0/25'));
    expect(problems(lab)).toEqual([expect.stringMatching(/^cluster\.podSubnet: 10\.244\.0\.0\/25 /)]);
  });
});
