import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IStorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Lab } from '../../model/defaults.js';
import { type NfsExport, nfsExports } from '../support/nfs-exports.js';
import { UPSTREAM } from '../support/versions.js';
import { deployment, meta, NS, restricted, resources } from './common.js';
import type { Folder } from './folder.js';

/**
 * k8s/storage/: one StorageClass per NFS export of the storage Pi, exactly nfsExports(lab) (the
 * list /etc/exports on the Pi is made from). Each class has its own nfs-subdir-external-provisioner,
 * which makes a folder in its export per PersistentVolumeClaim. The first export's class is the
 * cluster's default, so the lab's own claims (registry, Prometheus, slurmctld state) land there.
 * The VMs mount NFS themselves (kubelet): they need nfs-common.
 */

const APP = 'nfs-provisioner';
const ROLE = 'labgen-nfs-provisioner';

export const storageClassName = (e: NfsExport) => `nfs-${e.name}`;
/** The provisioner name a StorageClass selects its provisioner by. */
const provisionerName = (e: NfsExport) => `labgen/nfs-${e.name}`;

function rbac(): (IServiceAccount | IClusterRole | IClusterRoleBinding | IRole | IRoleBinding)[] {
  const subjects = [{ kind: 'ServiceAccount', name: APP, namespace: NS.storage }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(APP, NS.storage) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(ROLE),
      rules: [
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'update'] },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'update', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(ROLE),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ROLE },
      subjects,
    },
    // leader election, one lock per provisioner
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(ROLE, NS.storage),
      rules: [
        { apiGroups: [''], resources: ['endpoints'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(ROLE, NS.storage),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE },
      subjects,
    },
  ];
}

function provisioner(e: NfsExport) {
  return deployment(`${APP}-${e.name}`, NS.storage, {
    serviceAccountName: APP,
    containers: [
      {
        name: APP,
        image: UPSTREAM.images.nfsProvisioner,
        env: [
          { name: 'PROVISIONER_NAME', value: provisionerName(e) },
          { name: 'NFS_SERVER', value: e.server.ip },
          { name: 'NFS_PATH', value: e.path },
        ],
        resources: resources('10m', '16Mi', '64Mi'),
        securityContext: restricted(),
        volumeMounts: [{ name: 'export', mountPath: '/persistentvolumes' }],
      },
    ],
    volumes: [{ name: 'export', nfs: { server: e.server.ip, path: e.path } }],
  });
}

function storageClass(e: NfsExport, isDefault: boolean): IStorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: meta(storageClassName(e), undefined, isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}),
    provisioner: provisionerName(e),
    reclaimPolicy: 'Delete',
    // a deleted claim's folder is renamed archived-..., not removed: lab data survives a mistake
    parameters: { archiveOnDelete: 'true' },
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: false,
  };
}

export function storageFolder(lab: Lab): Folder | undefined {
  const exports = nfsExports(lab);
  if (exports.length === 0) return undefined;
  return {
    dir: 'storage',
    namespace: NS.storage,
    resources: {
      'rbac.yaml': rbac(),
      'provisioners.yaml': exports.map(provisioner),
      'storage-classes.yaml': exports.map((e, i) => storageClass(e, i === 0)),
    },
    about: `NFS storage on ${exports[0]!.server.name} (${exports[0]!.server.ip}): one StorageClass per export
(${exports.map((e) => `${storageClassName(e)} → ${e.path}`).join(', ')}); ${storageClassName(exports[0]!)} is the default.`,
  };
}
