import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Lab } from '../../model/defaults.js';
import { UPSTREAM } from '../support/versions.js';
import { deployment, meta, NS, restricted, resources } from './common.js';
import type { Folder } from './folder.js';
import { uiRoute, uiService, webUis } from './web-uis.js';

/**
 * k8s/headlamp/: Headlamp, the Kubernetes web UI that replaces the archived Dashboard (seed 001's
 * dashboard steps). It runs in-cluster with no rights of its own: you log in with a token. The
 * lab's admin ServiceAccount gets cluster-admin and a long-lived token Secret, which the
 * control plane fills in (kubernetes.io/service-account-token): no token is ever in the plan.
 */

export const HEADLAMP_ADMIN = 'headlamp-admin';
export const HEADLAMP_TOKEN_SECRET = 'headlamp-admin-token';

function admin(): [IServiceAccount, IClusterRoleBinding, ISecret] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(HEADLAMP_ADMIN, NS.headlamp) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(HEADLAMP_ADMIN),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: HEADLAMP_ADMIN, namespace: NS.headlamp }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: meta(HEADLAMP_TOKEN_SECRET, NS.headlamp, { annotations: { 'kubernetes.io/service-account.name': HEADLAMP_ADMIN } }),
    },
  ];
}

function headlamp() {
  return deployment('headlamp', NS.headlamp, {
    serviceAccountName: 'headlamp',
    containers: [
      {
        name: 'headlamp',
        image: UPSTREAM.images.headlamp,
        args: ['-in-cluster', '-plugins-dir=/headlamp/plugins'],
        ports: [{ name: 'http', containerPort: 4466 }],
        livenessProbe: { httpGet: { path: '/', port: 4466 } },
        readinessProbe: { httpGet: { path: '/', port: 4466 } },
        resources: resources('50m', '64Mi', '256Mi'),
        securityContext: restricted({ runAsNonRoot: true, runAsUser: 100, runAsGroup: 101 }),
      },
    ],
  }, { strategy: 'RollingUpdate' });
}

export function headlampFolder(lab: Lab): Folder | undefined {
  if (!lab.services.headlamp) return undefined;
  const ui = webUis(lab).find((u) => u.name === 'headlamp')!;
  const podAccount: IServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('headlamp', NS.headlamp) };
  return {
    dir: 'headlamp',
    namespace: NS.headlamp,
    resources: {
      'admin.yaml': admin(),
      'headlamp.yaml': [podAccount, headlamp(), uiService(lab, ui), ...uiRoute(lab, ui)],
    },
    about: `Headlamp (the Kubernetes UI) at https://headlamp.${lab.domain}, and the admin ServiceAccount whose
token logs in to it: kubectl -n ${NS.headlamp} get secret ${HEADLAMP_TOKEN_SECRET} -o jsonpath='{.data.token}' | base64 -d`,
  };
}
