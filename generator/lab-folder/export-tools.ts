import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { EXIT, LabgenError } from '../errors.js';
import type { Lab } from '../model/defaults.js';
import { type Bastion, type ExportFile, planAnsibleExport, planTerraformExport } from '../plan/export/index.js';
import { requireCurrent } from './current.js';
import { openLabFolder } from './open.js';

/**
 * `labgen export --ansible` / `--terraform`: the export's files written into a folder (default
 * exports/<tool>/ in the lab folder), each file atomically: an interrupted export leaves each
 * file old or new. The export names the lab key and .labgen/known_hosts, so the lab folder's
 * secrets and pins must be there (generated) first.
 */

export type ExportTool = 'ansible' | 'terraform';

/** exports/: where the tool exports go by default; `labgen export`'s zip leaves it out (absolute paths of this machine). */
export const EXPORTS_DIR = 'exports';

export interface ToolExport {
  dir: string;
  files: string[];
}

function outDir(labDir: string, tool: ExportTool, out?: string): string {
  const dir = resolve(out ?? join(labDir, EXPORTS_DIR, tool));
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new LabgenError(EXIT.badInput, `${dir} is a file, not a folder`, { hint: `give --out the folder to write the ${tool} files to, e.g. --out ${tool}/` });
  return dir;
}

/**
 * The jump host the cluster's hosts are reached through: none for Vagrant's VMs (they are on the
 * laptop's LAN). Hosts you already have (cluster.provider: existing) may sit behind one: their
 * bastion goes here, and the ssh_config's ProxyJump follows (plan/export/ssh-config.ts).
 */
export function bastionOf(_lab: Lab): Bastion | undefined {
  return undefined;
}

const withBastion = (b: Bastion | undefined) => (b ? { bastion: b } : {});

export function exportTool(labFile: string, tool: ExportTool, out?: string): ToolExport {
  const p = openLabFolder(labFile);
  requireCurrent(p, [], { nothing: 'no export written', why: 'the export names the lab key and .labgen/known_hosts', pins: true });
  const dir = outDir(p.labDir, tool, out);
  const files: ExportFile[] =
    tool === 'ansible'
      ? planAnsibleExport(p.lab, { labDir: p.labDir, outDir: dir, ...withBastion(bastionOf(p.lab)) })
      : planTerraformExport(p.lab, p.secrets.secrets.sshKey.public);
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileAtomic(join(dir, f.name), f.contents, 0o644);
  return { dir, files: files.map((f) => f.name) };
}
