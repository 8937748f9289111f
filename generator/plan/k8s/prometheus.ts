import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Lab } from '../../model/defaults.js';
import { marker } from '../../common/quote.js';
import { slurmController } from '../slurm/slurm-conf.js';
import { UPSTREAM } from '../support/versions.js';
import { toYaml } from '../support/yaml.js';
import { dataVolume, deployment, meta, NS, port, restricted, resources, service } from './common.js';
import { SLURM_EXPORTER_PORT } from './slurm-image.js';

/**
 * Prometheus of k8s/monitoring/: the Pis' node exporters (port 9100 on every Pi), the Slurm
 * exporter, the Pushgateway (for jobs on the Pis), and the cluster's kubelets and cAdvisor.
 */

export const PROMETHEUS_PORT = 9090;
export const NODE_EXPORTER_PORT = 9100;
export const PUSHGATEWAY_PORT = 9091;
export const PROMETHEUS_CONFIG_MAP = 'prometheus-config';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where the Slurm exporter answers: beside slurmctld in the cluster, or on the controller Pi. */
function slurmTarget(lab: Lab): { target: string; labels: Record<string, string> } | undefined {
  if (!lab.slurm) return undefined;
  const ctl = slurmController({ ...lab, slurm: lab.slurm });
  if (lab.slurm.controller === 'k8s') return { target: `slurmctld.${NS.slurm}.svc:${SLURM_EXPORTER_PORT}`, labels: { cluster: lab.name } };
  // a controller Pi must run labgen's Slurm exporter too (k8s/slurm/slurm-exporter.py) for this target to be up
  return { target: `${ctl.ip}:${SLURM_EXPORTER_PORT}`, labels: { cluster: lab.name, node: ctl.name } };
}

/** kubelet's /metrics and /metrics/cadvisor on every node, with Prometheus' own token. */
function kubeletJob(job: string, path: string) {
  return {
    job_name: job,
    scheme: 'https',
    metrics_path: path,
    kubernetes_sd_configs: [{ role: 'node' }],
    authorization: { credentials_file: `${SA_DIR}/token` },
    // kubeadm's kubelets serve self-signed certificates
    tls_config: { ca_file: `${SA_DIR}/ca.crt`, insecure_skip_verify: true },
    relabel_configs: [{ source_labels: ['__meta_kubernetes_node_name'], target_label: 'node' }],
  };
}

export function prometheusConfig(lab: Lab): string {
  const slurm = slurmTarget(lab);
  const config = {
    global: { scrape_interval: '30s', evaluation_interval: '30s' },
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
      {
        job_name: 'pis',
        static_configs: lab.pis.nodes.map((n) => ({ targets: [`${n.ip}:${NODE_EXPORTER_PORT}`], labels: { node: n.name } })),
      },
      ...(slurm ? [{ job_name: 'slurm', static_configs: [{ targets: [slurm.target], labels: slurm.labels }] }] : []),
      // pushed metrics keep the job and instance labels their pusher gave them
      { job_name: 'pushgateway', honor_labels: true, static_configs: [{ targets: [`pushgateway.${NS.monitoring}.svc:${PUSHGATEWAY_PORT}`] }] },
      kubeletJob('kubelet', '/metrics'),
      kubeletJob('cadvisor', '/metrics/cadvisor'),
    ],
  };
  return toYaml([config], `${marker('#')}\n# Prometheus of the ${lab.name} lab.`);
}

function rbac(): [IServiceAccount, IClusterRole, IClusterRoleBinding] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('prometheus', NS.monitoring) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('labgen-prometheus'),
      rules: [
        { apiGroups: [''], resources: ['nodes', 'nodes/metrics', 'services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('labgen-prometheus'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'labgen-prometheus' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: NS.monitoring }],
    },
  ];
}

export function prometheusObjects(lab: Lab): object[] {
  const data = dataVolume(lab, 'prometheus', NS.monitoring, '10Gi');
  const d = deployment('prometheus', NS.monitoring, {
    serviceAccountName: 'prometheus',
    securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534 },
    containers: [
      {
        name: 'prometheus',
        image: UPSTREAM.images.prometheus,
        args: [
          '--config.file=/etc/prometheus/prometheus.yml',
          '--storage.tsdb.path=/prometheus',
          '--storage.tsdb.retention.time=15d',
        ],
        ports: [{ name: 'web', containerPort: PROMETHEUS_PORT }],
        readinessProbe: { httpGet: { path: '/-/ready', port: PROMETHEUS_PORT } },
        livenessProbe: { httpGet: { path: '/-/healthy', port: PROMETHEUS_PORT } },
        resources: resources('100m', '256Mi', '1Gi'),
        securityContext: restricted(),
        volumeMounts: [
          { name: 'config', mountPath: '/etc/prometheus', readOnly: true },
          { name: 'data', mountPath: '/prometheus' },
        ],
      },
    ],
    volumes: [{ name: 'config', configMap: { name: PROMETHEUS_CONFIG_MAP } }, data.volume],
  });
  const ip = lab.services.monitoring?.prometheus;
  // port 80 too on its own IP, so http://prometheus.<domain> works as seed 003's did
  const ports = ip ? [port('http', 80, PROMETHEUS_PORT), port('web', PROMETHEUS_PORT)] : [port('web', PROMETHEUS_PORT)];
  return [...rbac(), ...data.claims, d, service('prometheus', NS.monitoring, ports, ip)];
}

export function pushgatewayObjects(lab: Lab): object[] {
  const d = deployment('pushgateway', NS.monitoring, {
    containers: [
      {
        name: 'pushgateway',
        image: UPSTREAM.images.pushgateway,
        ports: [{ name: 'push', containerPort: PUSHGATEWAY_PORT }],
        readinessProbe: { httpGet: { path: '/-/ready', port: PUSHGATEWAY_PORT } },
        livenessProbe: { httpGet: { path: '/-/healthy', port: PUSHGATEWAY_PORT } },
        resources: resources('10m', '32Mi', '128Mi'),
        securityContext: restricted({ runAsNonRoot: true, runAsUser: 65534 }),
      },
    ],
  });
  return [d, service('pushgateway', NS.monitoring, [port('push', PUSHGATEWAY_PORT)], lab.services.monitoring?.pushgateway)];
}
