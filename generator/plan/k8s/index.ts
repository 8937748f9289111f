import type { Lab } from '../../model/defaults.js';
import type { ServiceKey } from '../../model/services.js';
import type { Secrets } from '../../secrets/store.js';
import type { FileSpec } from '../file-spec.js';
import { toYaml } from '../support/yaml.js';
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
import { multicastCheckFolder } from './multicast-check.js';
import { namespacesFolder } from './namespaces.js';
import { registryFolder } from './registry.js';
import { slurmFolder } from './slurm.js';
import { storageFolder } from './storage.js';

/**
 * k8s/: the lab's services in today's form (issue #4): a root kustomization.yaml and one folder
 * per enabled service of lab.yaml, so `k8s/apply.sh` (upstream installs, then
 * `kubectl apply -k k8s/`) installs them. The tree builds offline and with kustomize's default
 * load restrictor (`kubectl kustomize k8s/`, no flags): every file a kustomization reads is inside
 * its folder, the secrets as copies in <folder>/secrets/ (folder.ts, envSecret).
 */

type FolderPlanner = (lab: Lab, secrets: Secrets) => Folder | undefined;

/**
 * One planner per folder, in the order the root kustomization lists them: one per service of
 * the service table (model/services.ts: the compiler refuses a service without its folder),
 * plus the NFS storage classes and slurmctld. Each returns undefined when its part is off.
 */
const FOLDERS: Record<ServiceKey | 'storage' | 'slurm', FolderPlanner> = {
  metallb: metallbFolder,
  coredns: corednsFolder,
  certManager: certManagerFolder,
  gateway: gatewayFolder,
  storage: storageFolder,
  headlamp: headlampFolder,
  registry: registryFolder,
  monitoring: monitoringFolder,
  logging: loggingFolder,
  sftp: sftpFolder,
  tftp: tftpFolder,
  slurm: slurmFolder,
};

function rootKustomization(lab: Lab, folders: Folder[]): FileSpec {
  const k: Kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: folders.map((f) => f.dir) };
  const about = `The services of the ${lab.name} lab, one folder each. Install them with ./apply.sh, which first
applies the pinned upstream installs (MetalLB, Gateway API, cert-manager), then this tree:
kubectl apply --server-side -k k8s/
Everything the build reads is in this tree, so it needs no network and no flags. A folder's
secrets/ holds the copies of the lab's secrets (.labgen/secrets/) its Secrets are made from:
0600, git-ignored, left out of \`labgen export\` without --with-secrets.`;
  return { path: `${K8S_DIR}/kustomization.yaml`, contents: toYaml([k], header(about)), mode: 0o644, kind: 'k8s' };
}

// The secrets reach k8s/ only in the folders' secrets/ files (0600, git-ignored, never in a diff).
export function planK8s(lab: Lab, secrets: Secrets): FileSpec[] {
  const services = Object.values(FOLDERS).map((f) => f(lab, secrets)).filter((f): f is Folder => f !== undefined);
  // the checks are kustomizations of their own, applied only by `labgen check`
  const checks = folderFiles(multicastCheckFolder(lab));
  if (services.length === 0) return checks;
  const namespaces = namespacesFolder(services);
  const folders = namespaces ? [namespaces, ...services] : services;
  return [rootKustomization(lab, folders), planApplyScript(lab), ...folders.flatMap(folderFiles), ...checks];
}
