import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { Folder } from './folder.js';
import { appLabels } from './common.js';

/**
 * k8s/namespaces/: seed 003's createNamespaces, made from the folders that are generated: one
 * Namespace per namespace a labgen folder uses (MetalLB's and cert-manager's come with their
 * upstream installs). kustomize puts Namespaces first in its output, so they exist before
 * anything in them is applied.
 */
export function namespacesFolder(folders: Folder[]): Folder | undefined {
  const names = [...new Set(folders.flatMap((f) => (f.namespace ? [f.namespace] : [])))].sort();
  if (names.length === 0) return undefined;
  const namespaces = names.map((name): INamespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: appLabels(name) } }));
  return {
    dir: 'namespaces',
    resources: { 'namespaces.yaml': namespaces },
    about: 'The namespaces of the lab services below (seed 003: createNamespaces.yaml).',
  };
}
