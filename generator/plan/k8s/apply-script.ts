import type { Lab } from '../../model/defaults.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { marker, shellQuote } from '../quote.js';
import { UPSTREAM } from '../versions.js';
import { CA_SECRET } from './cert-manager.js';
import { NS } from './common.js';
import { K8S_DIR } from './folder.js';

/**
 * k8s/apply.sh: how k8s/ gets into the cluster (`labgen up` runs it; it can be run by hand).
 *
 * k8s/ itself builds offline (`kubectl kustomize`): it has no remote resources. The upstream
 * installs that bring CRDs and admission webhooks (MetalLB, Gateway API, cert-manager) are
 * applied first from their pinned URLs (versions.ts), and waited for: objects of their kinds
 * are rejected until the CRDs are established and the webhooks answer.
 *
 * The secrets reach the cluster from the folders' secrets/ (copies labgen writes of
 * .labgen/secrets/, 0600 and git-ignored, the registry pull secret included), so the build runs
 * with kustomize's default load restrictor: plain `kubectl apply -k k8s`.
 */

export const CA_FILE = '.labgen/lab-ca.crt';

function upstreamSteps(lab: Lab): string[] {
  const s = lab.services;
  const lines: string[] = [];
  if (s.metallb) {
    lines.push(
      `step "MetalLB ${UPSTREAM.metallb.version}"`,
      `kubectl apply --server-side --force-conflicts -f ${shellQuote(UPSTREAM.metallb.manifest)}`,
      `kubectl -n ${NS.metallb} rollout status deployment/controller --timeout=300s`,
    );
  }
  if (s.gateway) {
    lines.push(
      `step "Gateway API ${UPSTREAM.gatewayApi.version} (standard channel)"`,
      `kubectl apply --server-side --force-conflicts -f ${shellQuote(UPSTREAM.gatewayApi.manifest)}`,
      'kubectl wait --for=condition=Established --timeout=60s crd/gatewayclasses.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io crd/httproutes.gateway.networking.k8s.io',
    );
  }
  if (s.certManager) {
    lines.push(
      `step "cert-manager ${UPSTREAM.certManager.version}"`,
      `kubectl apply --server-side --force-conflicts -f ${shellQuote(UPSTREAM.certManager.manifest)}`,
      ...['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook'].map((d) => `kubectl -n ${NS.certManager} rollout status deployment/${d} --timeout=300s`),
    );
  }
  return lines;
}

/** Once cert-manager has issued the lab CA: its certificate, for the VMs and the laptop. */
function caStep(lab: Lab): string[] {
  if (!lab.services.certManager) return [];
  return [
    'step "lab CA"',
    `kubectl -n ${NS.certManager} wait --for=condition=Ready --timeout=180s certificate/${CA_SECRET}`,
    `kubectl -n ${NS.certManager} get secret ${CA_SECRET} -o jsonpath='{.data.ca\\.crt}' | base64 -d >${CA_FILE}.tmp`,
    `chmod 0644 ${CA_FILE}.tmp`,
    `mv ${CA_FILE}.tmp ${CA_FILE}`,
    `echo "the lab CA is in ${CA_FILE}: the VMs' containerd and your browser trust it from there"`,
  ];
}

function applyScript(lab: Lab): string {
  return [
    '#!/usr/bin/env bash',
    marker('#'),
    '#',
    `# Installs the ${lab.name} lab's services into the cluster of $KUBECONFIG (labgen up runs it):`,
    '# 1. upstream installs with CRDs and webhooks, from pinned URLs (needs the internet);',
    '# 2. k8s/ itself, built offline by kustomize (no flags: every file it reads is inside k8s/,',
    "#    the secrets' copies in each folder's secrets/, 0600 and git-ignored);",
    '# 3. the lab CA, copied out once cert-manager has issued it.',
    'set -euo pipefail',
    '',
    '# paths below are relative to the lab folder',
    'cd "$(dirname "${BASH_SOURCE[0]}")/.."',
    'step() { printf \'\\n== %s\\n\' "$1"; }',
    'umask 077',
    '',
    ...upstreamSteps(lab),
    '',
    `step "${K8S_DIR}/"`,
    `kubectl apply --server-side --force-conflicts -k ${K8S_DIR}`,
    '',
    ...caStep(lab),
    ...(lab.slurm?.controller === 'k8s' ? ['echo "slurmctld starts once its image is in the registry: k8s/slurm/build-and-push.sh"'] : []),
    '',
  ].join('\n');
}

export function planApplyScript(lab: Lab): FileSpec {
  return { path: `${K8S_DIR}/apply.sh`, contents: applyScript(lab), mode: MODE.script, kind: 'k8s' };
}
