import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Lab } from '../../model/defaults.js';
import { marker } from '../../common/quote.js';
import { UPSTREAM } from '../support/versions.js';
import { toYaml } from '../support/yaml.js';
import { appLabels, dataVolume, deployment, meta, NS, port, restricted, resources, service } from './common.js';
import type { Folder } from './folder.js';

/**
 * k8s/logging/ (services.logging.enabled, off by default: it is heavy on a laptop): seed 003's
 * EFK stack, today's form. Fluent Bit on every node reads the containers' logs and sends them
 * to a single-node Elasticsearch; Kibana shows them on services.logging.ip. Security is off
 * inside the lab network: Elasticsearch is reachable only in the cluster.
 */

const ES_PORT = 9200;
const KIBANA_PORT = 5601;
const FLUENT_BIT_CONFIG = 'fluent-bit-config';

function elasticsearch(lab: Lab): object[] {
  const data = dataVolume(lab, 'elasticsearch', NS.logging, '10Gi');
  const d = deployment('elasticsearch', NS.logging, {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
    containers: [
      {
        name: 'elasticsearch',
        image: UPSTREAM.images.elasticsearch,
        env: [
          { name: 'discovery.type', value: 'single-node' },
          { name: 'xpack.security.enabled', value: 'false' },
          // no mmap: the VMs need no vm.max_map_count change
          { name: 'node.store.allow_mmap', value: 'false' },
          { name: 'ES_JAVA_OPTS', value: '-Xms512m -Xmx512m' },
        ],
        ports: [{ name: 'http', containerPort: ES_PORT }],
        readinessProbe: { httpGet: { path: '/_cluster/health?local=true', port: ES_PORT }, initialDelaySeconds: 20 },
        resources: resources('200m', '1Gi', '1536Mi'),
        securityContext: restricted(),
        volumeMounts: [{ name: 'data', mountPath: '/usr/share/elasticsearch/data' }],
      },
    ],
    volumes: [data.volume],
  });
  return [...data.claims, d, service('elasticsearch', NS.logging, [port('http', ES_PORT)])];
}

function kibana(lab: Lab): object[] {
  const d = deployment('kibana', NS.logging, {
    containers: [
      {
        name: 'kibana',
        image: UPSTREAM.images.kibana,
        env: [{ name: 'ELASTICSEARCH_HOSTS', value: `http://elasticsearch.${NS.logging}.svc:${ES_PORT}` }],
        ports: [{ name: 'http', containerPort: KIBANA_PORT }],
        readinessProbe: { httpGet: { path: '/api/status', port: KIBANA_PORT }, initialDelaySeconds: 30 },
        resources: resources('100m', '512Mi', '1Gi'),
        securityContext: restricted(),
      },
    ],
  }, { strategy: 'RollingUpdate' });
  const ip = lab.services.logging?.ip;
  const ports = ip ? [port('http', 80, KIBANA_PORT), port('kibana', KIBANA_PORT)] : [port('kibana', KIBANA_PORT)];
  return [d, service('kibana', NS.logging, ports, ip)];
}

export function fluentBitConfig(): string {
  const config = {
    service: { flush: 5, log_level: 'info', http_server: 'on', http_port: 2020 },
    pipeline: {
      inputs: [{ name: 'tail', tag: 'kube.*', path: '/var/log/containers/*.log', 'multiline.parser': 'cri', mem_buf_limit: '5MB', skip_long_lines: 'on' }],
      filters: [{ name: 'kubernetes', match: 'kube.*', merge_log: 'on', keep_log: 'off' }],
      outputs: [
        { name: 'es', match: '*', host: `elasticsearch.${NS.logging}.svc`, port: ES_PORT, logstash_format: 'on', suppress_type_name: 'on', replace_dots: 'on' },
      ],
    },
  };
  return toYaml([config], `${marker('#')}\n# Fluent Bit: container logs of this node → Elasticsearch.`);
}

function fluentBit(): (IServiceAccount | IClusterRole | IClusterRoleBinding | IDaemonSet)[] {
  const ds: IDaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta('fluent-bit', NS.logging),
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'fluent-bit' } },
      template: {
        metadata: { labels: appLabels('fluent-bit') },
        spec: {
          serviceAccountName: 'fluent-bit',
          // the control plane's logs too
          tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          containers: [
            {
              name: 'fluent-bit',
              image: UPSTREAM.images.fluentBit,
              command: ['/fluent-bit/bin/fluent-bit', '-c', '/fluent-bit/etc/fluent-bit.yaml'],
              resources: resources('20m', '32Mi', '128Mi'),
              securityContext: restricted({ readOnlyRootFilesystem: true }),
              volumeMounts: [
                { name: 'config', mountPath: '/fluent-bit/etc', readOnly: true },
                { name: 'varlog', mountPath: '/var/log', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: FLUENT_BIT_CONFIG } },
            { name: 'varlog', hostPath: { path: '/var/log', type: 'Directory' } },
          ],
        },
      },
    },
  };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('fluent-bit', NS.logging) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('labgen-fluent-bit'),
      rules: [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('labgen-fluent-bit'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'labgen-fluent-bit' },
      subjects: [{ kind: 'ServiceAccount', name: 'fluent-bit', namespace: NS.logging }],
    },
    ds,
  ];
}

export function loggingFolder(lab: Lab): Folder | undefined {
  if (!lab.services.logging?.enabled) return undefined;
  return {
    dir: 'logging',
    namespace: NS.logging,
    resources: { 'elasticsearch.yaml': elasticsearch(lab), 'kibana.yaml': kibana(lab), 'fluent-bit.yaml': fluentBit() },
    files: [{ name: 'fluent-bit-config.yaml', contents: fluentBitConfig() }],
    configMaps: [{ name: FLUENT_BIT_CONFIG, namespace: NS.logging, files: ['fluent-bit.yaml=fluent-bit-config.yaml'] }],
    about: 'Logging (services.logging): Fluent Bit on every node → Elasticsearch → Kibana on services.logging.ip.',
  };
}
