/**
 * The seed 003 lab, the one source of it: DEFAULTS (every default of lab.yaml) and SEED (what it
 * sets beyond them); its services are in the service table (services.ts). Imports nothing, so the
 * schema and the wizard both read it.
 */

/**
 * Every default of lab.yaml, in one place. The values are the seed 003 lab (labs/rpi-slurm), so
 * `labgen init --yes` and a lab.yaml that leaves a key out agree.
 */
export const DEFAULTS = {
  name: 'homelab',
  domain: 'home.lab',
  network: {
    subnet: '10.0.0.0/24',
    upstreamDns: ['8.8.8.8'],
  },
  cluster: {
    provider: 'virtualbox',
    box: 'bento/ubuntu-24.04',
    bridge: 'eth0',
    kubernetesVersion: '1.37',
    cni: 'flannel',
    podSubnet: '10.244.0.0/16',
    serviceSubnet: '10.96.0.0/12',
    controlPlane: { name: 'kv-master-0', cpus: 2, memory: 4096 },
    workers: { count: 3, namePrefix: 'kv-worker-', cpus: 2, memory: 2048 },
  },
  pis: {
    os: 'bookworm',
    model: 'pi4',
    interface: 'eth0',
    user: 'pi',
    roles: ['compute'],
  },
  slurm: { partition: 'allnodes' },
} as const;

/** The address a key that is left out gets from the subnet: the gateway is its first host. */
export const GATEWAY_HOST_INDEX = 1;

/**
 * What the seed 003 lab sets that has no default in the model; its services are every service
 * of the table but the opt-in ones, at their seed addresses (services.ts). `labgen init` takes
 * its defaults from DEFAULTS and this (wizard/questions.ts), and labs/rpi-slurm/lab.yaml is what
 * `labgen init --yes` writes (wizard/seed-file.ts makes it; test/wizard checks it).
 *
 * Addresses are host numbers within the subnet: every seed address follows the subnet, so
 * `--subnet 192.168.50.0/24` alone moves the whole lab.
 */
export const SEED = {
  pis: 5,
  authorizedKeys: ['~/.ssh/id_ed25519.pub'],
  storage: { disk: '/dev/sda', exports: [{ name: 'vol1', size: '20G' }, { name: 'vol2', size: '20G' }] },
  hosts: {
    gateway: GATEWAY_HOST_INDEX,
    firstPi: 2,
    dhcp: [150, 199],
    slurmctld: 28,
    controlPlane: 210,
    firstWorker: 220,
  },
} as const;
