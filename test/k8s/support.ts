/**
 * k8s/ of a lab, written to a temp lab folder (the planned files only, the fixed secrets' copies
 * in k8s/<folder>/secrets/ among them: no .labgen/secrets/), and built by the real
 * `kubectl kustomize` with no flags, as a user builds it (k8s/, then each k8s/checks/ folder,
 * which `labgen check` applies on its own). Memoised per lab variant: each is
 * planned, written and built once.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { type GeneratedLab, generatedLabCache, type LabOverrides } from '../support/generated.js';

const exec = promisify(execFile);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface BuiltLab {
  lab: GeneratedLab;
  objects: K8sObject[];
}

/** The example labs and the variants the k8s tests run on (logging is off in both examples). */
export const K8S_LABS: { name: string; file: string; overrides: LabOverrides }[] = [
  { name: 'rpi-slurm', file: 'labs/rpi-slurm/lab.yaml', overrides: {} },
  { name: 'minimal', file: 'labs/minimal/lab.yaml', overrides: {} },
  { name: 'rpi-slurm + logging', file: 'labs/rpi-slurm/lab.yaml', overrides: { services: { logging: { enabled: true, ip: '10.0.0.34' } } } },
  // no cert-manager: the gateway serves plain HTTP (the registry needs cert-manager, so it goes too)
  {
    name: 'rpi-slurm without certManager (and so without the registry; slurmctld on a Pi)',
    file: 'labs/rpi-slurm/lab.yaml',
    overrides: { services: { certManager: { enabled: false }, registry: { enabled: false } }, slurm: { controller: 'node02', ip: undefined } },
  },
  // no gateway: each web UI's own IP goes straight to the UI
  { name: 'rpi-slurm without gateway', file: 'labs/rpi-slurm/lab.yaml', overrides: { services: { gateway: { enabled: false } } } },
];

/** `kubectl kustomize`, no flags: kustomize's default load restrictor (no file outside a kustomization's folder). */
export const KUSTOMIZE_ARGS = ['kustomize'];

export async function kustomize(dir: string): Promise<string> {
  return kustomizeDir(join(dir, 'k8s'));
}

/** One kustomization folder, built the same way. */
export async function kustomizeDir(dir: string): Promise<string> {
  const { stdout } = await exec('kubectl', [...KUSTOMIZE_ARGS, dir], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export function builtLabCache() {
  const labs = generatedLabCache({ prefix: 'labgen-k8s-' });
  const built = new Map<string, Promise<BuiltLab>>();
  return {
    get(file: string, overrides: LabOverrides = {}): Promise<BuiltLab> {
      const key = `${file}\0${JSON.stringify(overrides)}`;
      let p = built.get(key);
      if (!p) {
        p = (async () => {
          const lab = await labs.get(file, overrides);
          // the checks (k8s/checks/*/) are kustomizations of their own, built the same way
          const checks = lab.matching(/^k8s\/checks\/[^/]+\/kustomization\.yaml$/).map((f) => f.path.replace(/\/kustomization\.yaml$/, ''));
          const built = [await kustomize(lab.dir), ...(await Promise.all(checks.map((c) => kustomizeDir(join(lab.dir, c)))))];
          const objects = built.flatMap((text) => (yaml.loadAll(text) as K8sObject[]).filter(Boolean));
          return { lab, objects };
        })();
        built.set(key, p);
      }
      return p;
    },
    cleanupAll: () => labs.cleanupAll(),
  };
}

/** LoadBalancer Services and the one IP each asks MetalLB for. */
export function loadBalancers(objects: K8sObject[]): { name: string; ips: string[] }[] {
  return objects
    .filter((o) => o.kind === 'Service' && (o.spec as { type?: string }).type === 'LoadBalancer')
    .map((o) => ({
      name: `${o.metadata.namespace}/${o.metadata.name}`,
      ips: (o.metadata.annotations?.['metallb.io/loadBalancerIPs'] ?? '').split(',').filter(Boolean),
    }));
}

/** Every container image of the pod templates (init containers too). */
export function images(objects: K8sObject[]): { where: string; image: string }[] {
  return objects.flatMap((o) => {
    const pod = (o.spec as { template?: { spec?: { containers?: { name: string; image?: string }[]; initContainers?: { name: string; image?: string }[] } } })?.template?.spec;
    if (!pod) return [];
    return [...(pod.initContainers ?? []), ...pod.containers!].map((c) => ({ where: `${o.kind} ${o.metadata.namespace}/${o.metadata.name} ${c.name}`, image: c.image ?? '' }));
  });
}
