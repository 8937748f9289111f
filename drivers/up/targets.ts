import { sha256 } from '../../generator/common/text.js';
import { requireCurrent } from '../../generator/lab-folder/current.js';
import { type LabFolder, openLabFolder } from '../../generator/lab-folder/open.js';
import type { Decision } from '../../generator/writer/decide.js';
import { kindOfPath } from '../../generator/writer/impact.js';
import { contentSha } from '../../generator/writer/manifest.js';
import type { FileNow } from './plan.js';

/** What `labgen up` starts from: the lab folder opened, and the VMs' files and k8s/'s as they are on disk. */

export const openUpFolder = (lab: string): LabFolder => openLabFolder(lab);

const kindOf = (d: Decision) => d.spec?.kind ?? d.was?.kind ?? kindOfPath(d.path).kind;

/**
 * The VMs' files and k8s/'s, which must be up to date with lab.yaml (up brings to the machines
 * what `labgen generate` wrote; a kept hand edit counts as it is on disk: vagrant reads that).
 */
export function upFiles(p: LabFolder): FileNow[] {
  const mine = p.decisions.filter((d) => kindOf(d) === 'vm' || kindOf(d) === 'k8s');
  requireCurrent(p, mine, { nothing: 'nothing was started', why: 'up brings to the VMs and the cluster the files it writes' });
  return mine.flatMap((d) => (d.spec ? [{
    path: d.path,
    sha256: d.action === 'kept' ? sha256(d.current ?? '') : contentSha(d.spec!),
    kind: d.spec!.kind as 'vm' | 'k8s',
    ...(d.spec!.host ? { host: d.spec!.host } : {}),
    spec: d.spec,
  }] : []));
}
