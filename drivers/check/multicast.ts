import { join } from 'node:path';
import { K8S_DIR } from '../../generator/plan/k8s/folder.js';
import { MULTICAST, RESULT_LINE } from '../../generator/plan/k8s/multicast-check.js';
import { CommandError, tail } from '../base/failure.js';
import type { Runner } from '../base/runner.js';
import { kubectlScript } from '../base/kubectl.js';

/**
 * `labgen check multicast`: k8s/checks/multicast/ run in the cluster through kubectl with the
 * lab's admin kubeconfig. The last run's Jobs are deleted first (a Job cannot be changed, and a
 * rerun must not read the last one's log), the folder applied, the receiver waited for, its log
 * and both pods' nodes read. The Jobs stay afterwards, for `kubectl logs`.
 */

export interface CheckTiming {
  /** how long the receiver may take, its image pull included */
  timeoutMs: number;
  pollMs: number;
}

export const DEFAULT_CHECK_TIMING: CheckTiming = { timeoutMs: (MULTICAST.waitSeconds + 240) * 1000, pollMs: 3000 };

export interface MulticastResult {
  pass: boolean;
  /** datagrams received, and wanted */
  got: number;
  want: number;
  receiverNode?: string;
  senderNode?: string;
  /** the receiver's log */
  log: string[];
  /** why it failed, when it did not get to a result line */
  why?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `kubectl ARGS` with the lab's kubeconfig; a failure is a CommandError of `step`. */
const kubectlOn = (r: Runner, kubeconfig: string) => (step: string, args: string[]) => r.run(step, `kubectl ${args.join(' ')}`, kubectlScript(kubeconfig, args));

type JobStatus = { status?: { succeeded?: number; failed?: number; conditions?: { type?: string; status?: string; reason?: string; message?: string }[] } };

/** 'done', 'failed: reason' or undefined while it runs. */
export function jobState(json: string): { done: boolean; why?: string } | undefined {
  const j = JSON.parse(json) as JobStatus;
  const s = j.status ?? {};
  const failed = (s.conditions ?? []).find((c) => c.type === 'Failed' && c.status === 'True');
  if (s.succeeded) return { done: true };
  if (failed || s.failed) return { done: false, ...(failed?.reason ? { why: `${failed.reason}${failed.message ? `: ${failed.message}` : ''}` } : {}) };
  return undefined;
}

/** Each check pod's node, by its app name, from `kubectl get pods -o json`. */
export function podNodes(json: string): Map<string, string> {
  const list = JSON.parse(json) as { items?: { metadata?: { labels?: Record<string, string> }; spec?: { nodeName?: string } }[] };
  const out = new Map<string, string>();
  for (const p of list.items ?? []) {
    const app = p.metadata?.labels?.['app.kubernetes.io/name'];
    if (app && p.spec?.nodeName) out.set(app, p.spec.nodeName);
  }
  return out;
}

export async function checkMulticast(
  r: Runner,
  o: { labDir: string; kubeconfig: string; timing: CheckTiming; step: (text: string) => void },
): Promise<MulticastResult> {
  const kubectl = kubectlOn(r, o.kubeconfig);
  const ns = ['--namespace', MULTICAST.namespace];
  o.step('removing the last run');
  await kubectl('delete the last run', ['delete', 'job', MULTICAST.receiver, MULTICAST.sender, ...ns, '--ignore-not-found', '--cascade=foreground', '--wait=true']);
  o.step(`applying ${K8S_DIR}/${MULTICAST.dir}/`);
  await kubectl('apply', ['apply', '-k', join(o.labDir, K8S_DIR, MULTICAST.dir)]);
  const deadline = Date.now() + o.timing.timeoutMs;
  let state: ReturnType<typeof jobState>;
  for (;;) {
    const json = await kubectl('wait for the receiver', ['get', 'job', MULTICAST.receiver, ...ns, '-o', 'json']);
    try {
      state = jobState(json);
    } catch (e) {
      throw new CommandError(r.host, 'wait for the receiver', `kubectl get job ${MULTICAST.receiver}`, 0, `not a Job: ${(e as Error).message}`);
    }
    if (state) break;
    if (Date.now() > deadline) {
      state = { done: false, why: `the receiver had not finished after ${Math.round(o.timing.timeoutMs / 1000)} s (an image that cannot be pulled? kubectl -n ${MULTICAST.namespace} describe pods)` };
      break;
    }
    o.step('waiting for the receiver');
    await sleep(o.timing.pollMs);
  }
  const nodes = podNodes(await kubectl('find the pods', ['get', 'pods', ...ns, '-l', `app.kubernetes.io/part-of=${MULTICAST.partOf}`, '-o', 'json']));
  // exec, not run: a log that cannot be read is part of the verdict, not a crash
  const log = await r.exec(kubectlScript(o.kubeconfig, ['logs', ...ns, `job/${MULTICAST.receiver}`]));
  const lines = log.code === 0 ? log.stdout.trim().split('\n').filter(Boolean) : [];
  const m = RESULT_LINE.exec(lines.join('\n'));
  const receiverNode = nodes.get(MULTICAST.receiver);
  const senderNode = nodes.get(MULTICAST.sender);
  const where = { ...(receiverNode ? { receiverNode } : {}), ...(senderNode ? { senderNode } : {}) };
  if (!m) {
    const why = state.why ?? (log.code === 0 ? 'the receiver printed no result' : `its log could not be read: ${tail(log.stderr, 2)}`);
    return { pass: false, got: 0, want: MULTICAST.want, log: lines, why, ...where };
  }
  return { pass: m[1] === 'pass' && state.done, got: Number(m[2]), want: Number(m[3]), log: lines, ...where };
}
