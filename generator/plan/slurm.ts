import type { Lab } from '../model/defaults.js';
import type { FileSpec } from './file-spec.js';
import type { PiPlanner } from './pi-part.js';

// placeholder: being written (issue #3)
export const slurmPi: PiPlanner = () => ({});
export function planSlurm(_lab: Lab): FileSpec[] {
  return [];
}
