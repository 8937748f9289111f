import type { Lab } from '../../model/defaults.js';
import type { PiModel } from '../pi/part.js';
import { render } from '../support/render.js';

/**
 * Slurm + munge (seed 003's "HPC home lab"): one slurm.conf for the lab, served "configless"
 * by slurmctld (SlurmctldParameters=enable_configless), so the compute Pis keep no copy: their
 * slurmd fetches slurm.conf and cgroup.conf from the controller (`--conf-server`). The
 * controller is either slurmctld in the Kubernetes cluster (slurm.controller: k8s, reached at
 * the LoadBalancer IP slurm.ip) or a Pi, which then gets /etc/slurm/ and runs slurmctld itself.
 *
 *   slurm/slurm.conf    this file (templates/slurm/slurm.conf.ejs), and the Slurm facts the
 *                       other sides read: ports, controller, nodes
 *   slurm/cgroup.conf   cgroup-conf.ts; slurm/index.ts writes both into the lab's slurm/
 *   pis/<node>/rootfs/  per Slurm Pi: munge, configless slurmd (pi/slurm.ts)
 *   k8s/slurm/          slurmctld in the cluster (k8s/slurm.ts)
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

export function requireSlurm(lab: Lab): asserts lab is Lab & { slurm: Slurm } {
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
