import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Lab } from '../../model/defaults.js';
import { UPSTREAM } from '../support/versions.js';
import { deployment, fqdn, hasCertManager, meta, NS, port, restricted, resources, service } from './common.js';
import type { Gateway, GatewayClass, HTTPRoute, Listener } from './crd-types.js';
import type { Folder } from './folder.js';
import { labCertificate } from './cert-manager.js';
import { GATEWAY_NAME, LISTENER, webUis } from './web-uis.js';

/**
 * k8s/gateway/: Gateway API with Traefik as its one controller, on services.gateway.ip.
 *
 * Why Traefik rather than Envoy Gateway: Traefik is one Deployment that labgen writes itself,
 * so its LoadBalancer Services are ordinary Services with the same metallb.io annotation as
 * every other lab IP (Envoy Gateway creates its proxy Service at run time, from the Gateway);
 * it ships no copy of the Gateway API CRDs of its own (Envoy Gateway's install bundles them),
 * so the pinned standard channel is the only one in the cluster; and one pod is lighter on a
 * laptop's VMs than a controller plus proxies.
 *
 * Traefik's Gateway listeners must use the ports of its entry points (8000, 8443: no privilege
 * needed); the Services map 80 and 443 to them.
 */

const APP = 'traefik';
const ENTRY = { web: 8000, websecure: 8443, traefik: 9000 } as const;
const CONTROLLER = 'traefik.io/gateway-controller';
export const GATEWAY_TLS_SECRET = 'gateway-tls';

function rbac(): [IServiceAccount, IClusterRole, IClusterRoleBinding] {
  const gw = 'gateway.networking.k8s.io';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(APP, NS.gateway) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('labgen-traefik-gateway'),
      rules: [
        { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['services', 'secrets', 'configmaps'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: [gw],
          resources: ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'tlsroutes', 'referencegrants', 'backendtlspolicies', 'listenersets'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: [gw],
          resources: ['gatewayclasses/status', 'gateways/status', 'httproutes/status', 'grpcroutes/status', 'tlsroutes/status', 'backendtlspolicies/status', 'listenersets/status'],
          verbs: ['update'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('labgen-traefik-gateway'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'labgen-traefik-gateway' },
      subjects: [{ kind: 'ServiceAccount', name: APP, namespace: NS.gateway }],
    },
  ];
}

function traefikDeployment() {
  return deployment(APP, NS.gateway, {
    serviceAccountName: APP,
    containers: [
      {
        name: APP,
        image: UPSTREAM.images.traefik,
        args: [
          `--entryPoints.web.address=:${ENTRY.web}`,
          `--entryPoints.websecure.address=:${ENTRY.websecure}`,
          `--entryPoints.traefik.address=:${ENTRY.traefik}`,
          // registry pushes and long uploads through the UIs: no 60 s read limit
          '--entryPoints.websecure.transport.respondingTimeouts.readTimeout=0',
          '--ping=true',
          '--metrics.prometheus=true',
          '--providers.kubernetesgateway=true',
          // the Gateway's status shows the address it is reached at
          '--providers.kubernetesgateway.statusAddress.service.name=gateway',
          `--providers.kubernetesgateway.statusAddress.service.namespace=${NS.gateway}`,
          '--global.checkNewVersion=false',
          '--global.sendAnonymousUsage=false',
          '--log.level=INFO',
        ],
        ports: [
          { name: 'web', containerPort: ENTRY.web },
          { name: 'websecure', containerPort: ENTRY.websecure },
          { name: 'traefik', containerPort: ENTRY.traefik },
        ],
        livenessProbe: { httpGet: { path: '/ping', port: ENTRY.traefik } },
        readinessProbe: { httpGet: { path: '/ping', port: ENTRY.traefik } },
        resources: resources('100m', '64Mi', '256Mi'),
        securityContext: restricted({ readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 }),
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      },
    ],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  }, { strategy: 'RollingUpdate' });
}

/** The gateway's own IP, then one front door per web UI that has an IP of its own (web-uis.ts). */
function frontDoors(lab: Lab) {
  const ports = [port('http', 80, 'web'), port('https', 443, 'websecure')];
  const uis = webUis(lab).filter((u) => u.ip);
  return [service('gateway', NS.gateway, ports, lab.services.gateway!.ip, APP), ...uis.map((u) => service(`ui-${u.name}`, NS.gateway, ports, u.ip, APP))];
}

function listeners(lab: Lab): Listener[] {
  const http: Listener = { name: LISTENER.http, port: ENTRY.web, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } };
  if (!hasCertManager(lab)) return [http];
  const https: Listener = {
    name: LISTENER.https,
    port: ENTRY.websecure,
    protocol: 'HTTPS',
    hostname: `*.${lab.domain}`,
    tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: GATEWAY_TLS_SECRET }] },
    allowedRoutes: { namespaces: { from: 'All' } },
  };
  return [http, https];
}

function gatewayObjects(lab: Lab): (GatewayClass | Gateway | HTTPRoute)[] {
  const cls: GatewayClass = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: APP }, spec: { controllerName: CONTROLLER } };
  const gateway: Gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: GATEWAY_NAME, namespace: NS.gateway },
    spec: { gatewayClassName: APP, listeners: listeners(lab) },
  };
  if (!hasCertManager(lab)) return [cls, gateway];
  // with HTTPS, plain HTTP only redirects (to port 443: the scheme's own port)
  const redirect: HTTPRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'http-to-https', namespace: NS.gateway },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: GATEWAY_NAME, namespace: NS.gateway, sectionName: LISTENER.http }],
      rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
    },
  };
  return [cls, gateway, redirect];
}

/** The gateway's certificate: its own name and every web UI's, from the lab CA. */
function certificate(lab: Lab): ICertificate {
  return labCertificate(GATEWAY_TLS_SECRET, NS.gateway, [fqdn(lab, 'gateway'), ...webUis(lab).map((u) => fqdn(lab, u.name))]);
}

export function gatewayFolder(lab: Lab): Folder | undefined {
  if (!lab.services.gateway) return undefined;
  return {
    dir: 'gateway',
    namespace: NS.gateway,
    resources: {
      'traefik.yaml': [...rbac(), traefikDeployment()],
      'services.yaml': frontDoors(lab),
      'gateway.yaml': gatewayObjects(lab),
      ...(hasCertManager(lab) ? { 'certificate.yaml': [certificate(lab)] } : {}),
    },
    about: `Gateway API (standard channel, installed by ../apply.sh) with Traefik as its controller,
on services.gateway.ip and on the IP of each web UI that has one. HTTPS with a certificate from
the lab CA; the web UIs' HTTPRoutes live in their own folders.`,
  };
}
