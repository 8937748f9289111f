import type { Lab } from '../model/defaults.js';
import { SECRET } from '../secrets/paths.js';
import { type FileSpec, MODE } from './file-spec.js';
import type { PiContext, PiFile, PiModel, PiPlanner } from './pi-part.js';
import { marker } from './quote.js';
import { render } from './render.js';

/**
 * Slurm + munge (seed 003's "HPC home lab"): one slurm.conf for the lab, served "configless"
 * by slurmctld (SlurmctldParameters=enable_configless), so the compute Pis keep no copy: their
 * slurmd fetches slurm.conf and cgroup.conf from the controller (`--conf-server`). The
 * controller is either slurmctld in the Kubernetes cluster (slurm.controller: k8s, reached at
 * the LoadBalancer IP slurm.ip) or a Pi, which then gets /etc/slurm/ and runs slurmctld itself.
 * munge authenticates every message with the lab's one key, placed from the secrets (never in
 * the plan).
 *
 *   slurm/slurm.conf, slurm/cgroup.conf     lab level (the Kubernetes side mounts these)
 *   pis/<node>/rootfs/...                   per Slurm Pi, via slurmPi
 */

/**
 * CPUs and RealMemory (MiB) of a Slurm node by Raspberry Pi model, when pis.nodes[].cpus /
 * .memory leave them out. RealMemory is a bit below what the OS reports as total memory (the
 * firmware keeps some for the GPU, the kernel some for itself): slurmd drains a node that
 * registers with less memory than slurm.conf promises, so promising a little less is safe.
 *   pi3  Pi 3 B/B+: 4 × Cortex-A53, 1 GB (~920 MiB visible)
 *   pi4  Pi 4 B, the common 4 GB board: 4 × Cortex-A72 (~3.7 GiB visible)
 *   pi5  Pi 5, the common 8 GB board: 4 × Cortex-A76 (~7.8 GiB visible)
 * Boards with another memory size set pis.nodes[].memory.
 */
export const SLURM_NODE_DEFAULTS: Readonly<Record<PiModel, { cpus: number; memory: number }>> = {
  pi3: { cpus: 4, memory: 850 },
  pi4: { cpus: 4, memory: 3600 },
  pi5: { cpus: 4, memory: 7600 },
};

/** Slurm's standard ports, written out: the Kubernetes Service for slurmctld must expose them. */
export const SLURM_PORTS = { slurmctld: 6817, slurmd: 6818 } as const;

/**
 * The host name slurmctld runs under when slurm.controller is k8s. slurmctld only starts on the
 * host SlurmctldHost names, so its pod must set `hostname: slurmctld`.
 */
export const SLURMCTLD_K8S_HOSTNAME = 'slurmctld';

/** Where the controller Pi keeps the config; also where slurmctld in k8s should mount it. */
export const SLURM_CONF_DIR = '/etc/slurm';

type Slurm = NonNullable<Lab['slurm']>;

/** Name and address of slurmctld: the k8s LoadBalancer IP, or the controller Pi's own IP. */
export function slurmController(lab: Lab & { slurm: Slurm }): { name: string; ip: string } {
  const { controller, ip } = lab.slurm;
  if (controller === 'k8s') return { name: SLURMCTLD_K8S_HOSTNAME, ip: ip! };
  const pi = lab.pis.nodes.find((n) => n.name === controller);
  return { name: controller, ip: pi!.ip };
}

/** One NodeName line's values: model defaults, then the node's own cpus/memory. */
export function slurmNodes(lab: Lab & { slurm: Slurm }) {
  return lab.slurm.nodes.map((name) => {
    const node = lab.pis.nodes.find((n) => n.name === name)!;
    const defaults = SLURM_NODE_DEFAULTS[node.model ?? lab.pis.model];
    return { name, ip: node.ip, cpus: node.cpus ?? defaults.cpus, memory: node.memory ?? defaults.memory };
  });
}

/**
 * Process tracking and task containment. Raspberry Pi OS boots with cgroup v2, which Slurm
 * reads from 21.08 on (bookworm has 22.05, trixie 24.11): proctrack/cgroup + task/cgroup there.
 * Bullseye's Slurm 20.11 has no cgroup v2 plugin, so a lab with a bullseye Slurm node tracks
 * processes from /proc instead (and pins tasks with task/affinity alone).
 */
function processTracking(lab: Lab & { slurm: Slurm }) {
  const bullseye = lab.slurm.nodes.some((name) => (lab.pis.nodes.find((n) => n.name === name)?.os ?? lab.pis.os) === 'bullseye');
  return bullseye
    ? { proctrack: 'proctrack/linuxproc', task: 'task/affinity', why: 'a Slurm node runs bullseye: Slurm 20.11 has no cgroup v2 support' }
    : { proctrack: 'proctrack/cgroup', task: 'task/cgroup,task/affinity', why: 'cgroup v2 (Raspberry Pi OS default), set up in cgroup.conf' };
}

function requireSlurm(lab: Lab): asserts lab is Lab & { slurm: Slurm } {
  if (!lab.slurm) throw new Error('labgen bug: the lab has no slurm section');
}

/**
 * slurm.conf of the lab, the one text both controllers use: the controller Pi's
 * /etc/slurm/slurm.conf and slurmctld's in Kubernetes. Configless slurmds get it from there.
 */
export function slurmConf(lab: Lab): string {
  requireSlurm(lab);
  return render('slurm/slurm.conf', {
    lab,
    slurm: lab.slurm,
    controller: slurmController(lab),
    nodes: slurmNodes(lab),
    ports: SLURM_PORTS,
    tracking: processTracking(lab),
  });
}

/**
 * cgroup.conf beside slurm.conf (slurmctld serves it to configless slurmds too). Cores are
 * constrained (the cpuset controller is on in Raspberry Pi OS); memory is not: Raspberry Pi OS
 * kernels leave the memory controller off unless cmdline.txt says cgroup_enable=memory.
 */
export function cgroupConf(lab: Lab): string {
  requireSlurm(lab);
  return [
    marker('#'),
    '#',
    `# cgroup.conf of the ${lab.name} lab, read by slurmd on each Slurm node (configless: from slurmctld).`,
    '# Used by proctrack/cgroup and task/cgroup (slurm.conf). CgroupPlugin is left at its default,',
    '# autodetect (cgroup v2 on Raspberry Pi OS); Slurm 20.11 (bullseye) would not know the key.',
    'ConstrainCores=yes',
    '# Raspberry Pi OS boots without the memory controller (cgroup_enable=memory in cmdline.txt turns it on).',
    'ConstrainRAMSpace=no',
    'ConstrainSwapSpace=no',
    'ConstrainDevices=no',
    '',
  ].join('\n');
}

/** slurm/: the lab's Slurm config, for the controller (k8s mounts it; a controller Pi gets a copy). */
export function planSlurm(lab: Lab): FileSpec[] {
  if (!lab.slurm) return [];
  return [
    { path: 'slurm/cgroup.conf', contents: cgroupConf(lab), mode: MODE.file, kind: 'slurm' },
    { path: 'slurm/slurm.conf', contents: slurmConf(lab), mode: MODE.file, kind: 'slurm' },
  ];
}

/** `--conf-server` of every slurmd: where slurmctld listens. */
export function confServer(lab: Lab): string {
  requireSlurm(lab);
  return `${slurmController(lab).ip}:${SLURM_PORTS.slurmctld}`;
}

function slurmdDefaults(lab: Lab): PiFile {
  return {
    path: '/etc/default/slurmd',
    mode: MODE.file,
    restart: ['slurmd'],
    contents: [
      marker('#'),
      '#',
      '# slurmd runs "configless": it fetches slurm.conf and cgroup.conf from slurmctld at start,',
      '# so this Pi keeps no copy that could drift from the controller.',
      `SLURMD_OPTIONS="--conf-server ${confServer(lab)}"`,
      '',
    ].join('\n'),
  };
}

/**
 * Debian's slurmd.service only starts when /etc/slurm/slurm.conf exists (ConditionPathExists),
 * which a configless node never has: the empty assignment clears that condition. slurmd also
 * restarts after a failure, e.g. while slurmctld is still coming up in the cluster.
 */
function slurmdDropIn(): PiFile {
  return {
    path: '/etc/systemd/system/slurmd.service.d/labgen-configless.conf',
    mode: MODE.file,
    restart: ['slurmd'],
    contents: [
      marker('#'),
      '#',
      '# Configless slurmd (SLURMD_OPTIONS in /etc/default/slurmd): no /etc/slurm/slurm.conf to wait for.',
      '[Unit]',
      'ConditionPathExists=',
      '',
      '[Service]',
      'Restart=on-failure',
      'RestartSec=10s',
      '',
    ].join('\n'),
  };
}

/**
 * A Slurm Pi: munge with the lab's key and a configless slurmd (slurm-client too, so sinfo and
 * srun work on every Pi). The controller Pi also gets /etc/slurm/ and runs slurmctld.
 */
export const slurmPi: PiPlanner = (ctx: PiContext) => {
  const { lab, node } = ctx;
  if (!lab.slurm) return {};
  const compute = lab.slurm.nodes.includes(node.name);
  const controller = lab.slurm.controller === node.name;
  if (!compute && !controller) return {};
  const files: PiFile[] = [];
  const packages = ['munge', 'slurm-client'];
  const services = ['munge'];
  if (compute) {
    files.push(slurmdDefaults(lab), slurmdDropIn());
    packages.push('slurmd');
    services.push('slurmd');
  }
  if (controller) {
    files.push(
      { path: `${SLURM_CONF_DIR}/slurm.conf`, contents: slurmConf(lab), mode: MODE.file, restart: ['slurmctld'] },
      { path: `${SLURM_CONF_DIR}/cgroup.conf`, contents: cgroupConf(lab), mode: MODE.file, restart: ['slurmctld'] },
    );
    packages.push('slurmctld');
    services.push('slurmctld');
  }
  return {
    files,
    packages,
    services,
    // the raw 1024 bytes munged reads; a changed key restarts munge (slurm daemons ask it per message)
    secrets: [{ secret: SECRET.mungeKey, path: '/etc/munge/munge.key', mode: 0o400, owner: 'munge:munge', restart: ['munge'] }],
  };
};
