/**
 * k8s/ of a lab, written to a temp lab folder with the fixed secrets in .labgen/secrets/ (where
 * the secretGenerators read them), and built by the real `kubectl kustomize` the way
 * k8s/apply.sh builds it. Memoised per lab variant: each is planned, written and built once.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { SECRET, SECRETS_DIR } from '../../generator/secrets/paths.js';
import { REGISTRY_USER } from '../../generator/secrets/store.js';
import { registryHost } from '../../generator/plan/k8s/registry.js';
import { FIXED_SECRETS, type GeneratedLab, generatedLabCache, type LabOverrides } from '../support/generated.js';

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

/** The build command of k8s/apply.sh (secretGenerators read ../.labgen/secrets/). */
export const KUSTOMIZE_ARGS = ['kustomize', '--load-restrictor', 'LoadRestrictionsNone'];

/** .labgen/secrets/ as the secrets store (and apply.sh, for the pull secret) leave it. */
async function writeSecrets(g: GeneratedLab): Promise<void> {
  const dir = join(g.dir, SECRETS_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s = FIXED_SECRETS;
  const auth = Buffer.from(`${REGISTRY_USER}:${s.registryPassword}`).toString('base64');
  const files: Record<string, string | Buffer> = {
    [SECRET.sshPublicKey]: s.sshKey.public,
    [SECRET.mungeKey]: Buffer.from(s.mungeKey, 'base64'),
    [SECRET.registryPassword]: s.registryPassword,
    [SECRET.registryHtpasswd]: s.registryHtpasswd,
    [SECRET.grafanaAdminPassword]: s.grafanaAdminPassword,
    [SECRET.registryDockerConfig]: `${JSON.stringify({ auths: { [registryHost(g.lab)]: { auth } } })}\n`,
  };
  for (const [name, contents] of Object.entries(files)) await writeFile(join(dir, name), contents, { mode: 0o600 });
}

export async function kustomize(dir: string): Promise<string> {
  const { stdout } = await exec('kubectl', [...KUSTOMIZE_ARGS, join(dir, 'k8s')], { maxBuffer: 64 * 1024 * 1024 });
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
          await writeSecrets(lab);
          const objects = (yaml.loadAll(await kustomize(lab.dir)) as K8sObject[]).filter(Boolean);
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
