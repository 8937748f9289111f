import type { Lab } from '../../model/defaults.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { cgroupConf } from './cgroup-conf.js';
import { slurmConf } from './slurm-conf.js';

/** slurm/: the lab's Slurm config, for the controller (k8s mounts it; a controller Pi gets a copy). */
export function planSlurm(lab: Lab): FileSpec[] {
  if (!lab.slurm) return [];
  return [
    { path: 'slurm/cgroup.conf', contents: cgroupConf(lab), mode: MODE.file, kind: 'slurm' },
    { path: 'slurm/slurm.conf', contents: slurmConf(lab), mode: MODE.file, kind: 'slurm' },
  ];
}
