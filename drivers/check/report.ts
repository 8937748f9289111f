import type { Lab } from '../../generator/model/defaults.js';
import { MULTICAST } from '../../generator/plan/k8s/multicast-check.js';
import { CNI_MULTICAST } from '../../generator/plan/support/cni-multicast.js';
import type { MulticastResult } from './multicast.js';

/** What `labgen check multicast` prints: the verdict first, then where the pods ran, then why. */
export function multicastReport(r: MulticastResult, lab: Lab): { out: string[]; err: string[] } {
  const group = `${MULTICAST.group}:${MULTICAST.port}`;
  const where = r.receiverNode && r.senderNode ? ` (sender on ${r.senderNode}, receiver on ${r.receiverNode})` : '';
  const sameNode = r.receiverNode !== undefined && r.receiverNode === r.senderNode;
  const cni = `${lab.cluster.cni}: ${CNI_MULTICAST[lab.cluster.cni].note}`;
  const inspect = `the pods: kubectl -n ${MULTICAST.namespace} logs job/${MULTICAST.receiver} (and job/${MULTICAST.sender})`;
  if (r.pass) {
    const out = [`multicast between pods: PASS: ${r.got}/${r.want} datagrams to ${group}${where}`];
    if (sameNode) out.push('  both pods ran on one node: this shows multicast on that node only, not between nodes (one node is all the cluster has to offer)');
    return { out, err: [] };
  }
  const err = [`multicast between pods: FAIL: ${r.got}/${r.want} datagrams to ${group}${where}${r.why ? `: ${r.why}` : ''}`];
  for (const l of r.log.slice(-5)) err.push(`  receiver: ${l}`);
  err.push(`  ${cni}`, `  ${inspect}`);
  return { out: [], err };
}
