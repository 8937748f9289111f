import type { Lab } from '../../model/defaults.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { render } from '../support/render.js';
import { UPSTREAM } from '../support/versions.js';
import { CA_SECRET } from './cert-manager.js';
import { NS } from './common.js';
import { K8S_DIR } from './folder.js';

/**
 * k8s/apply.sh: how k8s/ gets into the cluster (`labgen up` runs it; by hand, with KUBECONFIG set).
 *
 * k8s/ itself builds offline (`kubectl kustomize`): it has no remote resources. The upstream
 * installs that bring CRDs and admission webhooks (MetalLB, Gateway API, cert-manager) are
 * applied first from their pinned URLs (support/versions.ts), and waited for: objects of their kinds
 * are rejected until the CRDs are established and the webhooks answer.
 *
 * The secrets reach the cluster from the folders' secrets/ (copies labgen writes of
 * .labgen/secrets/, 0600 and git-ignored, the registry pull secret included), so the build runs
 * with kustomize's default load restrictor: plain `kubectl apply -k k8s`.
 *
 * The script is templates/k8s/apply.sh.ejs (rendered verbatim: its blank lines are kept as they are).
 */

export const CA_FILE = '.labgen/lab-ca.crt';

/** k8s/apply.sh, relative to the lab folder: planned when the lab has services to install (a lab without any has only k8s/checks/). */
export const APPLY_SCRIPT = `${K8S_DIR}/apply.sh`;

export function planApplyScript(lab: Lab): FileSpec {
  const data = { lab, upstream: UPSTREAM, ns: NS, k8sDir: K8S_DIR, caSecret: CA_SECRET, caFile: CA_FILE };
  return { path: APPLY_SCRIPT, contents: render('k8s/apply.sh', data, { verbatim: true }), mode: MODE.script, kind: 'k8s' };
}
