import { join } from 'node:path';
import { shellQuote } from '../../generator/common/quote.js';
import { CommandError, tail } from '../base/failure.js';
import type { Runner } from '../base/runner.js';
import { kubectlScript } from '../base/kubectl.js';

/**
 * The cluster's side of `labgen up`, through kubectl on this machine with the lab's admin
 * kubeconfig: wait for the nodes to be Ready, delete a node that left the lab, and install the
 * cluster's services with k8s/apply.sh (the one script that knows how; run as it is, so a user
 * running it by hand gets the same).
 */

/** The progress slot of the cluster's steps (its name, unless a VM has it). */
export const clusterSlot = (vms: readonly string[]) => (vms.includes('cluster') ? 'the cluster' : 'cluster');

export interface ReadyTiming {
  /** how long the nodes may take to be Ready (a VM's first boot pulls the CNI's images) */
  readyTimeoutMs: number;
  /** how often to ask */
  pollMs: number;
}

const kubectl = kubectlScript;

/** Each node's name and whether its Ready condition is True, from `kubectl get nodes -o json`. */
export function readyNodes(json: string): Map<string, boolean> {
  const list = JSON.parse(json) as { items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string }[] } }[] };
  return new Map(
    (list.items ?? []).map((n) => [n.metadata?.name ?? '', (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')]),
  );
}

/** kubectl's words when the API's name does not resolve here */
const NO_NAME = /no such host|server misbehaving|Temporary failure in name resolution|Name or service not known/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until every node in `nodes` is Ready; progress on each try. The API's name not resolving here fails at once (waiting would not help). */
export async function waitReady(r: Runner, kubeconfig: string, nodes: readonly string[], t: ReadyTiming, step: (text: string) => void, apiHost: string): Promise<void> {
  const command = 'kubectl get nodes';
  const deadline = Date.now() + t.readyTimeoutMs;
  let last = '';
  for (;;) {
    const res = await r.exec(kubectl(kubeconfig, ['get', 'nodes', '-o', 'json']));
    if (res.code === 0) {
      let ready: Map<string, boolean>;
      try {
        ready = readyNodes(res.stdout);
      } catch (e) {
        throw new CommandError(r.host, 'nodes Ready', command, res.code, `not a node list: ${(e as Error).message}`);
      }
      const waiting = nodes.filter((n) => !ready.get(n));
      if (!waiting.length) return;
      last = `nodes Ready ${nodes.length - waiting.length}/${nodes.length}; waiting for ${waiting.join(', ')}`;
    } else {
      if (NO_NAME.test(res.stderr))
        throw new CommandError(r.host, 'nodes Ready', command, res.code, `${apiHost} does not resolve on this machine: add laptop/hosts to /etc/hosts (the lab guide's step 2)\n${tail(res.stderr, 3)}`);
      last = `the API does not answer yet: ${tail(res.stderr, 1)}`;
    }
    step(last);
    if (Date.now() > deadline) throw new CommandError(r.host, 'nodes Ready', command, res.code, `not Ready after ${Math.round(t.readyTimeoutMs / 60_000)} min: ${last}`);
    await sleep(t.pollMs);
  }
}

/** Its pods moved to the other nodes (kubeadm's "remove a node": drain first); a node already gone is fine. */
export async function drainNode(r: Runner, kubeconfig: string, node: string, step = 'node-delete'): Promise<void> {
  const drain = await r.exec(kubectl(kubeconfig, ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=120s']));
  if (drain.code !== 0 && !/not ?found/i.test(drain.stderr)) throw new CommandError(node, step, `kubectl drain ${node}`, drain.code, tail(drain.stderr || drain.stdout));
}

/** The Node object deleted; one already gone is fine. */
export async function removeNodeObject(r: Runner, kubeconfig: string, node: string, step = 'node-delete'): Promise<void> {
  await r.run(step, `kubectl delete node ${node}`, kubectl(kubeconfig, ['delete', 'node', node, '--ignore-not-found']));
}

/** A node that left the lab: drained (as far as it goes) and deleted. */
export async function deleteNode(r: Runner, kubeconfig: string, node: string): Promise<void> {
  await drainNode(r, kubeconfig, node);
  await removeNodeObject(r, kubeconfig, node);
}

/** k8s/apply.sh with KUBECONFIG set; its `== STEP` lines as progress; a failure names the step it was at. */
export async function applyK8s(r: Runner, labDir: string, kubeconfig: string, step: (text: string) => void): Promise<void> {
  let section = '';
  const res = await r.exec(`KUBECONFIG=${shellQuote(kubeconfig)} ${shellQuote(join(labDir, 'k8s', 'apply.sh'))}`, {
    onLine: (l) => {
      if (l.startsWith('== ')) step(`k8s/apply.sh: ${(section = l.slice(3).trim())}`);
    },
  });
  if (res.code !== 0) throw new CommandError(r.host, section ? `k8s/apply.sh (${section})` : 'k8s/apply.sh', 'k8s/apply.sh', res.code, tail(res.stderr || res.stdout));
}
