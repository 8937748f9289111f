import type { Lab } from '../model/defaults.js';
import type { Secrets } from '../secrets/store.js';
import type { FileSpec } from './file-spec.js';
import { planK8s } from './k8s/index.js';
import { planKubeadmConfig } from './vm/kubeadm-config.js';
import { planLabReadme } from './lab/readme.js';
import { planLabSchema } from './lab/schema.js';
import { planLaptop } from './lab/laptop.js';
import type { PiFacts } from './pi/part.js';
import { planPis } from './pi/index.js';
import { planProvision } from './vm/provision.js';
import { planSlurm } from './slurm/index.js';
import { storageWarnings } from './support/nfs-exports.js';
import { planVagrantfile } from './vm/vagrantfile.js';

export type { FileSpec } from './file-spec.js';
export type { PiFacts } from './pi/part.js';

type Planner = (lab: Lab, secrets: Secrets) => FileSpec[];

/** One planner per output domain; each owns the files it names (planPis, which also gives the Pis' facts, is called on its own). */
const PLANNERS: Planner[] = [planLabSchema, planVagrantfile, planProvision, planKubeadmConfig, planLaptop, planLabReadme, planSlurm, planK8s];

/** The lab folder's files, and what the drivers need to know of each Pi besides its files. */
export interface Plan {
  files: FileSpec[];
  /** per Pi (by node name, in lab order): network files, apply command, secrets, services, stage paths */
  pis: Map<string, PiFacts>;
}

/**
 * The whole lab folder as data: pure and synchronous (no fs, clock, env, randomness or network;
 * secrets come in as an argument). Sorted by path so output order never depends on planners.
 */
export function plan(lab: Lab, secrets: Secrets): FileSpec[] {
  return planWithFacts(lab, secrets).files;
}

/** `plan`, with the per-Pi facts the drivers (push, status, image, up) read instead of the generated text. */
export function planWithFacts(lab: Lab, secrets: Secrets): Plan {
  const pis = new Map<string, PiFacts>();
  const files = PLANNERS.flatMap((p) => p(lab, secrets)).concat(planPis(lab, pis));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new Error(`labgen bug: two planners write ${f.path}`);
    seen.add(f.path);
  }
  return { files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), pis };
}

/** Things lab.yaml asks for that work but weaken the lab; generate prints them every time. */
export function planWarnings(lab: Lab): string[] {
  return [...storageWarnings(lab)];
}
