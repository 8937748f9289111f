import { SECRETS_DIR } from '../../secrets/paths.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { marker } from '../quote.js';
import { toYaml } from '../yaml.js';

/**
 * k8s/ is one kustomization per service folder. A folder planner describes its folder as data
 * (objects per YAML file, other files, generators); folderFiles() turns that into files, so
 * every folder's kustomization.yaml is written the same way.
 */

/** Root of the generated Kubernetes tree inside the lab folder. */
export const K8S_DIR = 'k8s';

/** A secretGenerator / configMapGenerator entry (kustomize's GeneratorArgs). */
export interface Generator {
  name: string;
  namespace: string;
  /** `key=path` or `path`, relative to the folder */
  files?: string[];
  literals?: string[];
  /** Secret type, e.g. kubernetes.io/dockerconfigjson */
  type?: string;
}

/** kustomize.config.k8s.io/v1beta1 Kustomization, the fields labgen writes. */
export interface Kustomization {
  apiVersion: 'kustomize.config.k8s.io/v1beta1';
  kind: 'Kustomization';
  resources?: string[];
  secretGenerator?: Generator[];
  configMapGenerator?: Generator[];
}

export interface ExtraFile {
  name: string;
  contents: string;
  mode?: number;
}

export interface Folder {
  /** folder name under k8s/ */
  dir: string;
  /** the namespace the folder's objects live in, when labgen creates it (k8s/namespaces/) */
  namespace?: string;
  /** YAML file name → the objects in it, in order */
  resources: Record<string, object[]>;
  /** files that are not Kubernetes objects: config files the generators read, scripts */
  files?: ExtraFile[];
  secrets?: Generator[];
  configMaps?: Generator[];
  /** why the folder is as it is: written at the top of its kustomization.yaml */
  about: string;
}

/**
 * Path of a lab secret as a kustomization in k8s/<dir>/ names it. It is outside the
 * kustomization root on purpose (secrets stay in .labgen/secrets/, 0600, never in k8s/), so the
 * build needs `--load-restrictor LoadRestrictionsNone` (k8s/apply.sh passes it).
 */
export function secretPath(file: string): string {
  return `../../${SECRETS_DIR}/${file}`;
}

/** `# ...` comment lines under the labgen marker. */
export function header(about: string): string {
  const lines = about.trim().split('\n').map((l) => (l ? `# ${l}` : '#'));
  return [marker('#'), '#', ...lines].join('\n');
}

function kustomization(folder: Folder): Kustomization {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: Object.keys(folder.resources),
    ...(folder.secrets?.length ? { secretGenerator: folder.secrets } : {}),
    ...(folder.configMaps?.length ? { configMapGenerator: folder.configMaps } : {}),
  };
}

/** The folder's files: kustomization.yaml, one YAML file per resources entry, the extra files. */
export function folderFiles(folder: Folder): FileSpec[] {
  const base = `${K8S_DIR}/${folder.dir}`;
  const spec = (name: string, contents: string, mode: number = MODE.file): FileSpec => ({ path: `${base}/${name}`, contents, mode, kind: 'k8s' });
  return [
    spec('kustomization.yaml', toYaml([kustomization(folder)], header(folder.about))),
    ...Object.entries(folder.resources).map(([name, objects]) => spec(name, toYaml(objects, marker('#')))),
    ...(folder.files ?? []).map((f) => spec(f.name, f.contents, f.mode)),
  ];
}
