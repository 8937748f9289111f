import { SECRETS_DIR } from '../../generator/common/layout.js';
import type { Lab } from '../../generator/model/defaults.js';
import { gatewayAliases, onService, serviceAddresses, vms } from '../../generator/model/hosts.js';
import { uiHost, WEB_UIS } from '../../generator/model/services.js';
import { CA_FILE } from '../../generator/plan/k8s/apply-script.js';
import { NS } from '../../generator/plan/k8s/common.js';
import { HEADLAMP_TOKEN_SECRET } from '../../generator/plan/k8s/headlamp.js';
import { apiEndpoint } from '../../generator/plan/vm/kubeadm-config.js';
import { REGISTRY_USER } from '../../generator/secrets/store.js';
import { SECRET } from '../../generator/secrets/paths.js';
import { ADMIN_KUBECONFIG } from './kubeconfig.js';

/**
 * What `labgen up` prints at the end: where the lab answers (from lab.yaml, the one source of
 * its addresses) and where each credential is, by file name: a secret's contents never reach
 * the terminal.
 */

export function endpointLines(lab: Lab, merged?: { file: string }): string[] {
  const d = lab.domain;
  const scheme = onService(lab, 'certManager') ? 'https' : 'http';
  const web = new Set(WEB_UIS.filter((u) => onService(lab, u.service)).map((u) => uiHost(u)));
  const lines = [
    `  Kubernetes API  https://${apiEndpoint(lab)}  (kubectl --kubeconfig ${ADMIN_KUBECONFIG}${merged ? `, or the context ${lab.name} in ${merged.file}` : ''})`,
    `  VMs             ${vms(lab).map((v) => `${v.name} ${v.ip}`).join(', ')}`,
  ];
  for (const s of serviceAddresses(lab)) lines.push(`  ${s.name.padEnd(15)} ${web.has(s.name) ? `${scheme}://${s.name}.${d}` : `${s.name}.${d}`}  ${s.ip}`);
  for (const a of gatewayAliases(lab)) lines.push(`  ${a.name.padEnd(15)} ${scheme}://${a.name}.${d}  (through the gateway, ${a.ip})`);
  const creds: string[] = [];
  if (onService(lab, 'registry')) creds.push(`  registry, ChartMuseum: user ${REGISTRY_USER}, password in ${SECRETS_DIR}/${SECRET.registryPassword}`);
  if (onService(lab, 'monitoring')) creds.push(`  Grafana: user admin, password in ${SECRETS_DIR}/${SECRET.grafanaAdminPassword}`);
  if (onService(lab, 'headlamp'))
    creds.push(`  Headlamp: a token: kubectl --kubeconfig ${ADMIN_KUBECONFIG} -n ${NS.headlamp} get secret ${HEADLAMP_TOKEN_SECRET} -o jsonpath='{.data.token}' | base64 -d`);
  if (onService(lab, 'certManager')) creds.push(`  the lab CA (for your browser): ${CA_FILE}`);
  return ['endpoints:', ...lines, ...(creds.length ? ['credentials (files in the lab folder; never shown here):', ...creds] : [])];
}
