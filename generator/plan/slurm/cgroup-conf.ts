import type { Lab } from '../../model/defaults.js';
import { marker } from '../../common/quote.js';
import { requireSlurm } from './slurm-conf.js';

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
