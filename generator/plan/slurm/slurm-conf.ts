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
 * CPUs of a Slurm node by Raspberry Pi model, when pis.nodes[].cpus leaves them out: every
 * Pi 3, 4 and 5 has 4 cores (Cortex-A53, -A72, -A76).
 *
 * Memory has no such default: each model comes with several sizes (a Pi 4 with 1, 2, 4 or 8 GB)
 * and slurmctld drains a node that registers with less than its RealMemory (state INVAL, "Low
 * RealMemory"), so promising the biggest board's takes every smaller one out of service. A node
 * gets RealMemory only from pis.nodes[].memory; without it Slurm's default (1 MiB) applies, which
 * never drains a node (and jobs then cannot ask for memory with --mem).
 */
export const SLURM_NODE_CPUS: Readonly<Record<PiModel, number>> = { pi3: 4, pi4: 4, pi5: 4 };

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

/** One NodeName line's values: the node's own cpus (else its model's) and memory (else none). */
export function slurmNodes(lab: Lab & { slurm: Slurm }): { name: string; ip: string; cpus: number; memory?: number }[] {
  return lab.slurm.nodes.map((name) => {
    const node = lab.pis.nodes.find((n) => n.name === name)!;
    return { name, ip: node.ip, cpus: node.cpus ?? SLURM_NODE_CPUS[node.model ?? lab.pis.model], memory: node.memory };
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
