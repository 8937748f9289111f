import { join } from 'node:path';
import { KNOWN_HOSTS } from '../../generator/common/layout.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { requireCurrent } from '../../generator/lab-folder/current.js';
import { type LabFolder, openLabFolder } from '../../generator/lab-folder/open.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import { KnownHostsFile } from '../base/known-hosts.js';
import { type PiTarget, piTargets } from './plan.js';
import { readState } from './state.js';

/** What push and status start from: the lab folder opened, its Pis as targets, trust, last addresses. */

/**
 * The plan's Pi files as the lab folder holds them. Push delivers what `labgen generate` wrote,
 * so the folder must be up to date: a kept hand edit (.labgen/keep) is delivered as kept.
 */
function piFiles(p: LabFolder, nodes: string[]): FileSpec[] {
  const mine = p.decisions.filter((d) => d.spec?.kind === 'pi' && nodes.includes(d.spec.host ?? ''));
  requireCurrent(p, mine, { nothing: 'nothing was pushed', why: 'push delivers the files it writes' });
  return mine.map((d) => (d.action === 'kept' && d.current !== undefined ? { ...d.spec!, contents: d.current } : d.spec!));
}

/** Everything push and status share: the lab, its Pis as targets, trust, last addresses. */
export function loadTargets(
  opts: { lab: string },
  nodes: string[],
): { labDir: string; targets: PiTarget[]; privateKey: string; knownHosts: KnownHostsFile; lastAddress: Record<string, string>; labAddresses: Record<string, string> } {
  const p = openLabFolder(opts.lab);
  const all = p.lab.pis.nodes.map((n) => n.name);
  const unknown = nodes.filter((n) => !all.includes(n));
  if (unknown.length)
    throw new LabgenError(EXIT.badInput, `not a Pi of this lab: ${unknown.join(', ')}`, { hint: `the lab's Pis: ${all.join(', ') || '(none)'}` });
  const chosen = nodes.length ? nodes : all;
  const targets = piTargets(p.pis, piFiles(p, chosen), p.secrets.file, chosen);
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

