import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { Lab } from '../../model/defaults.js';
import { SECRET } from '../../secrets/paths.js';
import type { Secrets } from '../../secrets/store.js';
import { marker } from '../../common/quote.js';
import { UPSTREAM } from '../support/versions.js';
import { toYaml } from '../support/yaml.js';
import { dataVolume, deployment, fqdn, hasCertManager, hasGateway, meta, NS, restricted, resources } from './common.js';
import { DATASOURCE_UID, dashboards } from './dashboards.js';
import type { Folder } from './folder.js';
import { envSecret } from './folder.js';
import { PROMETHEUS_CONFIG_MAP, PROMETHEUS_PORT, prometheusConfig, prometheusObjects, pushgatewayObjects } from './prometheus.js';
import { uiRoute, uiService, webUis } from './web-uis.js';

/**
 * k8s/monitoring/: Prometheus, Grafana and the Pushgateway, each on its services.monitoring IP
 * (seed 003's monitoring). Grafana is provisioned: the Prometheus datasource and the lab's
 * dashboards are files, its admin password comes from .labgen/secrets/ through a secretGenerator.
 */

const GRAFANA_SECRET = 'grafana-admin';
const GRAFANA_PROVISIONING = 'grafana-provisioning';
const GRAFANA_DASHBOARDS = 'grafana-dashboards';
const DASHBOARDS_DIR = '/etc/grafana/dashboards';

function datasources(): string {
  const config = {
    apiVersion: 1,
    datasources: [
      { name: 'Prometheus', uid: DATASOURCE_UID, type: 'prometheus', access: 'proxy', isDefault: true, url: `http://prometheus.${NS.monitoring}.svc:${PROMETHEUS_PORT}` },
    ],
  };
  return toYaml([config], `${marker('#')}\n# Grafana datasource: the lab's Prometheus.`);
}

function dashboardProvider(lab: Lab): string {
  const config = {
    apiVersion: 1,
    providers: [{ name: 'labgen', folder: `${lab.name} lab`, type: 'file', disableDeletion: true, allowUiUpdates: false, options: { path: DASHBOARDS_DIR } }],
  };
  return toYaml([config], `${marker('#')}\n# Grafana: the lab's dashboards, from ${DASHBOARDS_DIR} (ConfigMap ${GRAFANA_DASHBOARDS}).`);
}

/** The dashboards as one ConfigMap object (JSON files cannot carry labgen's marker comment). */
function dashboardsConfigMap(lab: Lab): IConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(GRAFANA_DASHBOARDS, NS.monitoring), data: dashboards(lab) };
}

function grafanaRootUrl(lab: Lab): string {
  const scheme = hasGateway(lab) && hasCertManager(lab) ? 'https' : 'http';
  return `${scheme}://${fqdn(lab, 'grafana')}/`;
}

function grafana(lab: Lab): object[] {
  const data = dataVolume(lab, 'grafana', NS.monitoring, '1Gi');
  const ui = webUis(lab).find((u) => u.name === 'grafana')!;
  const secretEnv = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: GRAFANA_SECRET, key } } });
  const d = deployment('grafana', NS.monitoring, {
    securityContext: { runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, fsGroup: 472 },
    containers: [
      {
        name: 'grafana',
        image: UPSTREAM.images.grafana,
        env: [
          secretEnv('GF_SECURITY_ADMIN_USER', 'admin-user'),
          secretEnv('GF_SECURITY_ADMIN_PASSWORD', 'admin-password'),
          { name: 'GF_SERVER_ROOT_URL', value: grafanaRootUrl(lab) },
          { name: 'GF_USERS_ALLOW_SIGN_UP', value: 'false' },
          { name: 'GF_ANALYTICS_REPORTING_ENABLED', value: 'false' },
          { name: 'GF_ANALYTICS_CHECK_FOR_UPDATES', value: 'false' },
        ],
        ports: [{ name: 'http', containerPort: ui.targetPort }],
        readinessProbe: { httpGet: { path: '/api/health', port: ui.targetPort } },
        livenessProbe: { httpGet: { path: '/api/health', port: ui.targetPort }, initialDelaySeconds: 60 },
        resources: resources('50m', '128Mi', '512Mi'),
        securityContext: restricted(),
        volumeMounts: [
          { name: 'data', mountPath: '/var/lib/grafana' },
          { name: 'provisioning', mountPath: '/etc/grafana/provisioning', readOnly: true },
          { name: 'dashboards', mountPath: DASHBOARDS_DIR, readOnly: true },
        ],
      },
    ],
    volumes: [
      data.volume,
      {
        name: 'provisioning',
        configMap: {
          name: GRAFANA_PROVISIONING,
          items: [
            { key: 'datasources.yaml', path: 'datasources/labgen.yaml' },
            { key: 'dashboards.yaml', path: 'dashboards/labgen.yaml' },
          ],
        },
      },
      { name: 'dashboards', configMap: { name: GRAFANA_DASHBOARDS } },
    ],
  });
  return [...data.claims, d, uiService(lab, ui), ...uiRoute(lab, ui)];
}

export function monitoringFolder(lab: Lab, secrets: Secrets): Folder | undefined {
  if (!lab.services.monitoring) return undefined;
  const admin = envSecret(GRAFANA_SECRET, NS.monitoring, [{ key: 'admin-password', value: secrets.grafanaAdminPassword, from: SECRET.grafanaAdminPassword }]);
  return {
    dir: 'monitoring',
    namespace: NS.monitoring,
    resources: {
      'prometheus.yaml': prometheusObjects(lab),
      'pushgateway.yaml': pushgatewayObjects(lab),
      'grafana.yaml': grafana(lab),
      'grafana-dashboards.yaml': [dashboardsConfigMap(lab)],
    },
    files: [
      { name: 'prometheus-config.yml', contents: prometheusConfig(lab) },
      { name: 'grafana-datasources.yaml', contents: datasources() },
      { name: 'grafana-dashboard-provider.yaml', contents: dashboardProvider(lab) },
    ],
    configMaps: [
      { name: PROMETHEUS_CONFIG_MAP, namespace: NS.monitoring, files: ['prometheus.yml=prometheus-config.yml'] },
      { name: GRAFANA_PROVISIONING, namespace: NS.monitoring, files: ['datasources.yaml=grafana-datasources.yaml', 'dashboards.yaml=grafana-dashboard-provider.yaml'] },
    ],
    secrets: [{ ...admin.generator, literals: ['admin-user=admin'] }],
    secretFiles: [admin.file],
    about: `Monitoring: Prometheus (scrapes the Pis' node exporters, Slurm, the Pushgateway, the kubelets),
Grafana with the lab's dashboards (admin password: secrets/, from ../../.labgen/secrets/${SECRET.grafanaAdminPassword}),
and the Pushgateway, each on its services.monitoring IP.`,
  };
}
