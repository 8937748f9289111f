import { join } from 'node:path';
import { KNOWN_HOSTS } from '../../generator/common/layout.js';
import { chosenPis, currentPiFiles } from '../../generator/lab-folder/current.js';
import { openLabFolder } from '../../generator/lab-folder/open.js';
import { KnownHostsFile } from '../base/known-hosts.js';
import { type PiTarget, piTargets } from './plan.js';
import { readState } from './state.js';

/** What push and status start from: the lab folder opened, its Pis as targets, trust, last addresses. */

/** Everything push and status share: the lab, its Pis as targets, trust, last addresses. */
export function loadTargets(
  opts: { lab: string },
  nodes: string[],
): { labDir: string; targets: PiTarget[]; privateKey: string; knownHosts: KnownHostsFile; lastAddress: Record<string, string>; labAddresses: Record<string, string> } {
  const p = openLabFolder(opts.lab);
  const chosen = chosenPis(p, nodes);
  const files = currentPiFiles(p, chosen, { nothing: 'nothing was pushed', why: 'push delivers the files it writes' });
  const targets = piTargets(p.pis, files, p.secrets.file, chosen);
  const state = readState(p.labDir);
  return {
    labDir: p.labDir,
    targets,
    privateKey: p.secrets.secrets.sshKey.private,
    knownHosts: new KnownHostsFile(join(p.labDir, KNOWN_HOSTS)),
    lastAddress: Object.fromEntries(Object.entries(state.nodes).map(([n, s]) => [n, s.address])),
    labAddresses: Object.fromEntries(p.lab.pis.nodes.map((n) => [n.name, n.ip])),
  };
}

