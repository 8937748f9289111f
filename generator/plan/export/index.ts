import type { Lab } from '../../model/defaults.js';
import type { ExportContext } from './context.js';
import { planInventory } from './inventory.js';
import { planMainTf } from './main-tf.js';
import { planExportSshConfig } from './ssh-config.js';
import { planVariablesTf } from './variables-tf.js';

/**
 * `labgen export --ansible` and `--terraform`: files for other tools, written to a folder of
 * the user's choosing (not the lab folder's manifest: generate neither writes nor owns them).
 * One planner per file; the same lab gives the same bytes.
 */

export interface ExportFile {
  name: string;
  contents: string;
}

export const planAnsibleExport = (lab: Lab, ctx: ExportContext): ExportFile[] => [
  { name: 'inventory.yaml', contents: planInventory(lab, ctx) },
  { name: 'ssh_config', contents: planExportSshConfig(lab, ctx) },
];

export const planTerraformExport = (lab: Lab, publicKey: string): ExportFile[] => [
  { name: 'main.tf', contents: planMainTf(lab, publicKey) },
  { name: 'variables.tf', contents: planVariablesTf(lab) },
];

export type { Bastion, ExportContext } from './context.js';
