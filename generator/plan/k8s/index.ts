import type { Lab } from '../../model/defaults.js';
import type { Secrets } from '../../secrets/store.js';
import type { FileSpec } from '../file-spec.js';
import { toYaml } from '../yaml.js';
import { planApplyScript } from './apply-script.js';
import { certManagerFolder } from './cert-manager.js';
import { corednsFolder } from './coredns.js';
import { type Folder, folderFiles, header, K8S_DIR, type Kustomization } from './folder.js';
import { sftpFolder, tftpFolder } from './ftp.js';
import { gatewayFolder } from './gateway.js';
import { headlampFolder } from './headlamp.js';
import { loggingFolder } from './logging.js';
import { metallbFolder } from './metallb.js';
import { monitoringFolder } from './monitoring.js';
import { namespacesFolder } from './namespaces.js';
import { registryFolder } from './registry.js';
import { slurmFolder } from './slurm.js';
import { storageFolder } from './storage.js';

/**
 * k8s/: the lab's services in today's form (issue #4): a root kustomization.yaml and one folder
 * per enabled service of lab.yaml, so `k8s/apply.sh` (upstream installs, then
 * `kubectl kustomize --load-restrictor LoadRestrictionsNone k8s/ | kubectl apply -f -`) installs
 * them. The tree itself builds offline; see apply-script.ts for the order and the load restrictor.
 */

/** One planner per folder, in the order the root kustomization lists them. */
const FOLDERS: ((lab: Lab) => Folder | undefined)[] = [
  metallbFolder,
  corednsFolder,
  certManagerFolder,
  gatewayFolder,
  storageFolder,
  headlampFolder,
  registryFolder,
  monitoringFolder,
  loggingFolder,
  sftpFolder,
  tftpFolder,
  slurmFolder,
];

function rootKustomization(lab: Lab, folders: Folder[]): FileSpec {
  const k: Kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: folders.map((f) => f.dir) };
  const about = `The services of the ${lab.name} lab, one folder each. Install them with ./apply.sh, which first
applies the pinned upstream installs (MetalLB, Gateway API, cert-manager), then builds this
tree: kubectl kustomize --load-restrictor LoadRestrictionsNone k8s/ | kubectl apply --server-side -f -
The load restrictor is lifted because the secretGenerators read ../.labgen/secrets/ (secrets
never live in k8s/); everything else is in this tree, so the build needs no network.`;
  return { path: `${K8S_DIR}/kustomization.yaml`, contents: toYaml([k], header(about)), mode: 0o644, kind: 'k8s' };
}

// Secrets reach k8s/ only as files in .labgen/secrets/ that the secretGenerators name; the plan
// itself never holds one, so the `secrets` argument is not used here.
export function planK8s(lab: Lab, _secrets: Secrets): FileSpec[] {
  const services = FOLDERS.map((f) => f(lab)).filter((f): f is Folder => f !== undefined);
  if (services.length === 0) return [];
  const namespaces = namespacesFolder(services);
  const folders = namespaces ? [namespaces, ...services] : services;
  return [rootKustomization(lab, folders), planApplyScript(lab), ...folders.flatMap(folderFiles)];
}
