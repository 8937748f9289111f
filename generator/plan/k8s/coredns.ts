import { createHash } from 'node:crypto';
import type { Lab } from '../../model/defaults.js';
import { hostsEntries } from '../../model/hosts.js';
import { marker } from '../../common/quote.js';
import { UPSTREAM } from '../support/versions.js';
import { deployment, NS, port, restricted, resources, service } from './common.js';
import type { Folder } from './folder.js';

/**
 * k8s/coredns/: the lab's DNS server on services.coredns.ip (seed 003's "DNS Server"). It serves
 * the lab domain from a zone file made from hostsEntries(), the same list /etc/hosts on every
 * VM, Pi and the laptop is made from, and forwards every other name to network.upstreamDns.
 * It is a CoreDNS of its own, apart from the cluster's (kube-system) DNS.
 */

/** CoreDNS listens above 1024 so it needs no capability; the Service maps port 53 to it. */
const DNS_PORT = 1053;
const HEALTH_PORT = 8080;
const READY_PORT = 8181;
const METRICS_PORT = 9153;
const CONF_DIR = '/etc/coredns';
/** The name the zone's NS record points at: serviceAddresses() calls CoreDNS "dns". */
const NS_NAME = 'dns';

export const zoneFileName = (lab: Lab) => `db.${lab.domain}`;

/** One A record per host name of hostsEntries (VMs, Pis, the API name, services). */
function records(lab: Lab): string[] {
  const suffix = `.${lab.domain}`;
  return hostsEntries(lab).map((e) => {
    const fq = e.names.find((n) => n.endsWith(suffix))!;
    return `${fq.slice(0, -suffix.length).padEnd(24)} IN A ${e.ip}`;
  });
}

/**
 * The zone's serial: from a hash of its records, so output stays deterministic (no date) and the
 * serial changes whenever a record does.
 */
function serial(body: string[]): number {
  return createHash('sha256').update(body.join('\n')).digest().readUInt32BE(0) || 1;
}

export function zoneFile(lab: Lab): string {
  const body = records(lab);
  return [
    marker(';'),
    `; Zone ${lab.domain} of the ${lab.name} lab: the hosts of hostsEntries() (as in /etc/hosts).`,
    `$ORIGIN ${lab.domain}.`,
    '$TTL 300',
    `@ IN SOA ${NS_NAME}.${lab.domain}. hostmaster.${lab.domain}. (`,
    `    ${serial(body)} ; serial: a hash of the records below`,
    '    3600 ; refresh',
    '    600 ; retry',
    '    86400 ; expire',
    '    300 ) ; negative answers',
    `@ IN NS ${NS_NAME}`,
    ...body,
    '',
  ].join('\n');
}

export function corefile(lab: Lab): string {
  return [
    marker('#'),
    `# The lab domain from its zone file; everything else forwarded to network.upstreamDns.`,
    `${lab.domain}:${DNS_PORT} {`,
    '    errors',
    `    file ${CONF_DIR}/${zoneFileName(lab)}`,
    '}',
    `.:${DNS_PORT} {`,
    '    errors',
    `    health :${HEALTH_PORT}`,
    `    ready :${READY_PORT}`,
    `    prometheus :${METRICS_PORT}`,
    `    forward . ${lab.network.upstreamDns.join(' ')}`,
    '    cache 30',
    '    loop',
    '}',
    '',
  ].join('\n');
}

const CONFIG_MAP = 'coredns-config';

function corednsDeployment() {
  const d = deployment('coredns', NS.dns, {
    containers: [
      {
        name: 'coredns',
        image: UPSTREAM.images.coredns,
        args: ['-conf', `${CONF_DIR}/Corefile`],
        ports: [
          { name: 'dns-udp', containerPort: DNS_PORT, protocol: 'UDP' },
          { name: 'dns-tcp', containerPort: DNS_PORT, protocol: 'TCP' },
          { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
        ],
        livenessProbe: { httpGet: { path: '/health', port: HEALTH_PORT } },
        readinessProbe: { httpGet: { path: '/ready', port: READY_PORT } },
        resources: resources('50m', '32Mi', '128Mi'),
        securityContext: restricted({ readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 65532 }),
        volumeMounts: [{ name: 'config', mountPath: CONF_DIR, readOnly: true }],
      },
    ],
    volumes: [{ name: 'config', configMap: { name: CONFIG_MAP } }],
  }, { strategy: 'RollingUpdate' });
  // two replicas: the Pis and VMs ask this server first, so a restart must not stop answers
  d.spec!.replicas = 2;
  return d;
}

export function corednsFolder(lab: Lab): Folder | undefined {
  const coredns = lab.services.coredns;
  if (!coredns) return undefined;
  const ports = [port('dns-udp', 53, DNS_PORT, 'UDP'), port('dns-tcp', 53, DNS_PORT, 'TCP')];
  return {
    dir: 'coredns',
    namespace: NS.dns,
    resources: { 'coredns.yaml': [corednsDeployment(), service('dns', NS.dns, ports, coredns.ip, 'coredns')] },
    files: [
      { name: 'Corefile', contents: corefile(lab) },
      { name: zoneFileName(lab), contents: zoneFile(lab) },
    ],
    // a generated name (hash suffix): a changed zone rolls the pods, no reload needed
    configMaps: [{ name: CONFIG_MAP, namespace: NS.dns, files: ['Corefile', zoneFileName(lab)] }],
    about: `Lab DNS on services.coredns.ip: ${zoneFileName(lab)} (made from the same list as /etc/hosts)
and the Corefile reach the pods as a ConfigMap; other names go to network.upstreamDns.`,
  };
}
