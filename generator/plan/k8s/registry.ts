import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { Lab } from '../../model/defaults.js';
import { SECRET } from '../../secrets/paths.js';
import { REGISTRY_USER, type Secrets } from '../../secrets/store.js';
import { MODE } from '../file-spec.js';
import { marker } from '../../common/quote.js';
import { UPSTREAM } from '../support/versions.js';
import { labCertificate } from './cert-manager.js';
import { dataVolume, deployment, fqdn, meta, NS, port, restricted, resources, service } from './common.js';
import type { Folder } from './folder.js';
import { envSecret } from './folder.js';
import { pushImagesScript } from './push-images.js';
import { uiRoute, uiService, webUis } from './web-uis.js';

/**
 * k8s/registry/: the lab's private registry (seed 002, seed 003's "docker registry" on
 * services.registry.ip), its web UI and ChartMuseum.
 *
 * The registry (distribution) serves HTTPS itself with a certificate from the lab CA, on port 443
 * of its own IP, so images are simply registry.<domain>/<name>:<tag>. Its users are in an
 * htpasswd file (bcrypt) made once by the secrets store; ChartMuseum takes the same password.
 * containerd on the VMs trusts the lab CA for this host through
 * /etc/containerd/certs.d/<host>/hosts.toml (containerdHostsToml below): no insecure registries.
 */

export const REGISTRY_AUTH_SECRET = 'registry-auth';
const TLS_SECRET = 'registry-tls';

/** The registry's host name: what image names start with and what its certificate is for. */
export const registryHost = (lab: Lab) => fqdn(lab, 'registry');

/**
 * The image pull secret of the lab registry (a .dockerconfigjson), made from its password: the
 * JSON a `docker login` leaves, `{"auths":{"<host>":{"auth":"<base64 user:password>"}}}`.
 */
export function registryDockerConfig(lab: Lab, secrets: Secrets): string {
  const password = secrets.registryPassword.replace(/\n$/, '');
  const auth = Buffer.from(`${REGISTRY_USER}:${password}`).toString('base64');
  return JSON.stringify({ auths: { [registryHost(lab)]: { auth } } });
}

/** Where containerd on a VM finds the lab CA for the registry (provision/ places it, see the report). */
export const containerdCaPath = (lab: Lab) => `/etc/containerd/certs.d/${registryHost(lab)}/ca.crt`;

/**
 * /etc/containerd/certs.d/<host>/hosts.toml for every VM: pull from and push to the registry
 * over HTTPS, trusting the lab CA (which k8s/apply.sh copies out once cert-manager issued it).
 */
export function containerdHostsToml(lab: Lab): string {
  const host = registryHost(lab);
  return [
    marker('#'),
    `# containerd: the lab registry ${host}, over HTTPS with the lab CA (no insecure registry).`,
    `server = "https://${host}"`,
    '',
    `[host."https://${host}"]`,
    '  capabilities = ["pull", "resolve", "push"]',
    `  ca = "${containerdCaPath(lab)}"`,
    '',
  ].join('\n');
}

/** Always over TLS from the lab CA: the model requires cert-manager with the registry. */
function registryContainer(lab: Lab): IContainer {
  return {
    name: 'registry',
    image: UPSTREAM.images.registry,
    // distribution reads its settings from REGISTRY_* variables over its built-in config file
    env: [
      { name: 'REGISTRY_HTTP_ADDR', value: ':5000' },
      { name: 'REGISTRY_AUTH', value: 'htpasswd' },
      { name: 'REGISTRY_AUTH_HTPASSWD_REALM', value: `${lab.name} registry` },
      { name: 'REGISTRY_AUTH_HTPASSWD_PATH', value: '/auth/htpasswd' },
      { name: 'REGISTRY_STORAGE_DELETE_ENABLED', value: 'true' },
      { name: 'REGISTRY_HTTP_TLS_CERTIFICATE', value: '/certs/tls.crt' },
      { name: 'REGISTRY_HTTP_TLS_KEY', value: '/certs/tls.key' },
    ],
    ports: [{ name: 'registry', containerPort: 5000 }],
    // /v2/ answers 401 without credentials: a TCP check says the server is up
    readinessProbe: { tcpSocket: { port: 5000 } },
    livenessProbe: { tcpSocket: { port: 5000 } },
    resources: resources('50m', '64Mi', '512Mi'),
    securityContext: restricted(),
    volumeMounts: [
      { name: 'data', mountPath: '/var/lib/registry' },
      { name: 'auth', mountPath: '/auth', readOnly: true },
      { name: 'tls', mountPath: '/certs', readOnly: true },
    ],
  };
}

function registry(lab: Lab) {
  const data = dataVolume(lab, 'registry', NS.registry, '20Gi');
  const d = deployment('registry', NS.registry, {
    containers: [registryContainer(lab)],
    volumes: [
      data.volume,
      { name: 'auth', secret: { secretName: REGISTRY_AUTH_SECRET, items: [{ key: 'htpasswd', path: 'htpasswd' }] } },
      { name: 'tls', secret: { secretName: TLS_SECRET } },
    ],
  });
  return [...data.claims, d, service('registry', NS.registry, [port('https', 443, 5000)], lab.services.registry!.ip)];
}

/**
 * The registry's certificate. distribution reads it once at start: a year's validity, renewed a
 * month early; the renewed one is used from the pod's next restart.
 */
function certificate(lab: Lab): ICertificate {
  const dnsNames = [registryHost(lab), `registry.${NS.registry}.svc`, `registry.${NS.registry}.svc.cluster.local`];
  return labCertificate(TLS_SECRET, NS.registry, dnsNames, { duration: '8760h', renewBefore: '720h' });
}

/** Joxit's UI proxies the registry API (and the browser's basic auth) through its own nginx. */
function registryUi(lab: Lab) {
  return deployment('registry-ui', NS.registry, {
    containers: [
      {
        name: 'registry-ui',
        image: UPSTREAM.images.registryUi,
        env: [
          { name: 'REGISTRY_TITLE', value: `${lab.name} registry` },
          { name: 'SINGLE_REGISTRY', value: 'true' },
          { name: 'REGISTRY_SECURED', value: 'true' },
          { name: 'NGINX_PROXY_PASS_URL', value: `https://registry.${NS.registry}.svc.cluster.local` },
          { name: 'DELETE_IMAGES', value: 'true' },
          { name: 'SHOW_CONTENT_DIGEST', value: 'true' },
        ],
        ports: [{ name: 'http', containerPort: 80 }],
        readinessProbe: { httpGet: { path: '/', port: 80 } },
        resources: resources('10m', '16Mi', '64Mi'),
      },
    ],
  }, { strategy: 'RollingUpdate' });
}

function chartmuseum(lab: Lab) {
  const data = dataVolume(lab, 'chartmuseum', NS.registry, '5Gi');
  const d = deployment('chartmuseum', NS.registry, {
    securityContext: { fsGroup: 1000 },
    containers: [
      {
        name: 'chartmuseum',
        image: UPSTREAM.images.chartmuseum,
        env: [
          { name: 'PORT', value: '8080' },
          { name: 'STORAGE', value: 'local' },
          { name: 'STORAGE_LOCAL_ROOTDIR', value: '/charts' },
          // anyone in the lab may read charts; pushing needs the registry's user and password
          { name: 'AUTH_ANONYMOUS_GET', value: 'true' },
          { name: 'BASIC_AUTH_USER', value: REGISTRY_USER },
          { name: 'BASIC_AUTH_PASS', valueFrom: { secretKeyRef: { name: REGISTRY_AUTH_SECRET, key: 'password' } } },
        ],
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/health', port: 8080 } },
        livenessProbe: { httpGet: { path: '/health', port: 8080 } },
        resources: resources('20m', '32Mi', '256Mi'),
        securityContext: restricted(),
        volumeMounts: [{ name: 'data', mountPath: '/charts' }],
      },
    ],
    volumes: [data.volume],
  });
  return [...data.claims, d];
}

export function registryFolder(lab: Lab, secrets: Secrets): Folder | undefined {
  if (!lab.services.registry) return undefined;
  const auth = envSecret(REGISTRY_AUTH_SECRET, NS.registry, [
    { key: 'htpasswd', value: secrets.registryHtpasswd, from: SECRET.registryHtpasswd },
    { key: 'password', value: secrets.registryPassword, from: SECRET.registryPassword },
  ]);
  const uis = webUis(lab);
  const ui = uis.find((u) => u.name === 'registry-ui')!;
  const cm = uis.find((u) => u.name === 'chartmuseum')!;
  return {
    dir: 'registry',
    namespace: NS.registry,
    resources: {
      'registry.yaml': registry(lab),
      'certificate.yaml': [certificate(lab)],
      'registry-ui.yaml': [registryUi(lab), uiService(lab, ui), ...uiRoute(lab, ui)],
      'chartmuseum.yaml': [...chartmuseum(lab), uiService(lab, cm), ...uiRoute(lab, cm)],
    },
    files: [{ name: 'push-images.sh', contents: pushImagesScript(lab), mode: MODE.script }],
    secrets: [auth.generator],
    secretFiles: [auth.file],
    about: `The lab registry at ${registryHost(lab)} (services.registry.ip, HTTPS from the lab CA, htpasswd
auth), its UI and ChartMuseum. The htpasswd line and the password: secrets/ (from ../../.labgen/secrets/).
push-images.sh copies the images a node already has into it (run it on a VM as root).`,
  };
}
