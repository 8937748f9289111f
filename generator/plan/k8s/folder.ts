import { EXIT, LabgenError } from '../../errors.js';
import { K8S_SECRETS_DIR } from '../../secrets/paths.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { marker } from '../../common/quote.js';
import { toYaml } from '../support/yaml.js';
import { SECRETS_DIR } from '../../common/layout.js';

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
  /** env files (`key=value` lines), relative to the folder */
  envs?: string[];
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
  /** secretGenerators: each reads its env file in secrets/ (see envSecret) */
  secrets?: Generator[];
  /**
   * files with secret contents, in the folder's secrets/ (K8S_SECRETS_DIR): 0600, git-ignored,
   * not exported without --with-secrets, never shown in a diff. Env files of the secretGenerators,
   * and Secret objects that a generator cannot make (resources: names the file).
   */
  secretFiles?: SecretFile[];
  configMaps?: Generator[];
  /** why the folder is as it is: written at the top of its kustomization.yaml */
  about: string;
}

/** A file of a folder's secrets/; `resource`: it holds Secret objects the kustomization lists. */
export interface SecretFile {
  name: string;
  contents: string;
  resource?: boolean;
}

/** One key of a Secret, with the file of .labgen/secrets/ its value comes from (said in the env file, and in errors). */
export interface SecretValue {
  key: string;
  value: string;
  from: string;
}

/**
 * A Secret that kustomize's secretGenerator makes from secrets/<name>.env, and that env file.
 * The lab's secrets are copied inside the kustomization's root because kustomize refuses to read
 * a file outside it (its default load restrictor: `kubectl kustomize k8s/` needs no flag); the
 * generator keeps the hashed name, so a changed secret rolls the pods that use it. An env file
 * holds one line per key: a value is one line (a final newline is dropped, as `$(cat file)` does).
 */
export function envSecret(
  name: string,
  namespace: string,
  values: SecretValue[],
  type?: string,
): { generator: Generator; file: SecretFile } {
  const file = `${K8S_SECRETS_DIR}/${name}.env`;
  const lines = values.map(({ key, value, from }) => {
    const v = value.endsWith('\n') ? value.slice(0, -1) : value;
    if (/[\r\n]/.test(v) || v.trim() === '')
      throw new LabgenError(EXIT.badInput, `${SECRETS_DIR}/${from} must be one line of text (it is the Secret ${namespace}/${name}'s ${key})`, {
        hint: `put it back as labgen made it (from a copy, or \`labgen export --with-secrets\` elsewhere), or make new ones with \`labgen generate --new-secrets\``,
      });
    return `${key}=${v}`;
  });
  const sources = [...new Set(values.map((v) => `${SECRETS_DIR}/${v.from}`))].join(', ');
  const contents = [
    marker('#'),
    `# The Secret ${namespace}/${name}, for kustomize (it reads no file outside the kustomization),`,
    `# from ${sources}. Secret: 0600, git-ignored; never commit or share it.`,
    ...lines,
    '',
  ].join('\n');
  const generator: Generator = { name, namespace, envs: [file], ...(type ? { type } : {}) };
  return { generator, file: { name: file, contents } };
}

/** A .gitignore that keeps secrets/ (itself included) out of git, like .labgen/secrets/'s. */
const SECRETS_GITIGNORE = `${marker('#')}\n# secrets/ holds copies of the lab's secrets: never in git\n*\n`;

/** `# ...` comment lines under the labgen marker. */
export function header(about: string): string {
  const lines = about.trim().split('\n').map((l) => (l ? `# ${l}` : '#'));
  return [marker('#'), '#', ...lines].join('\n');
}

function kustomization(folder: Folder): Kustomization {
  const secretResources = (folder.secretFiles ?? []).filter((f) => f.resource).map((f) => f.name);
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [...Object.keys(folder.resources), ...secretResources],
    ...(folder.secrets?.length ? { secretGenerator: folder.secrets } : {}),
    ...(folder.configMaps?.length ? { configMapGenerator: folder.configMaps } : {}),
  };
}

/** The folder's files: kustomization.yaml, one YAML file per resources entry, the extra files, secrets/. */
export function folderFiles(folder: Folder): FileSpec[] {
  const base = `${K8S_DIR}/${folder.dir}`;
  const spec = (name: string, contents: string, mode: number = MODE.file): FileSpec => ({ path: `${base}/${name}`, contents, mode, kind: 'k8s' });
  const secretFiles = folder.secretFiles ?? [];
  for (const f of secretFiles) if (!f.name.startsWith(`${K8S_SECRETS_DIR}/`)) throw new Error(`labgen bug: secret file ${base}/${f.name} outside ${K8S_SECRETS_DIR}/`);
  return [
    spec('kustomization.yaml', toYaml([kustomization(folder)], header(folder.about))),
    ...Object.entries(folder.resources).map(([name, objects]) => spec(name, toYaml(objects, marker('#')))),
    ...(folder.files ?? []).map((f) => spec(f.name, f.contents, f.mode)),
    ...(secretFiles.length ? [spec(`${K8S_SECRETS_DIR}/.gitignore`, SECRETS_GITIGNORE), ...secretFiles.map((f) => spec(f.name, f.contents, MODE.private))] : []),
  ];
}
