import type { Lab } from '../model/defaults.js';
import type { PI_MODELS, PI_OS, PI_ROLES } from '../model/schema.js';

/**
 * What one concern (network, hosts, apt, storage, Slurm, monitoring) contributes to a Pi.
 * pis.ts merges the parts into the Pi's rootfs/ files and its setup.sh.
 */

export type PiOs = (typeof PI_OS)[number];
export type PiModel = (typeof PI_MODELS)[number];
export type PiRole = (typeof PI_ROLES)[number];
export type PiNode = Lab['pis']['nodes'][number];

/** The Pi a part is planned for, with its per-node overrides resolved. */
export interface PiContext {
  lab: Lab;
  node: PiNode;
  /** index in pis.nodes (for messages that name the lab.yaml path) */
  index: number;
  os: PiOs;
  model: PiModel;
}

/** A file at its absolute path on the Pi. */
export interface PiFile {
  path: string;
  contents: string;
  mode: number;
  /** user:group on the Pi (default root:root) */
  owner?: string;
  /** services restarted when this file changes */
  restart?: string[];
}

/** A file whose content is a secret: placed from secrets/ beside setup.sh, never in the lab folder. */
export interface PiSecretFile {
  /** name under .labgen/secrets/ */
  secret: string;
  path: string;
  mode: number;
  owner?: string;
  restart?: string[];
}

export interface PiPart {
  files?: PiFile[];
  /** files for the boot (FAT) partition of an image, e.g. cloud-init's network-config */
  bootFiles?: PiFile[];
  secrets?: PiSecretFile[];
  /** apt packages this part needs */
  packages?: string[];
  /** systemd services enabled and started */
  services?: string[];
  /** network config files: when one changes, setup.sh applies the network last */
  network?: boolean;
}

export type PiPlanner = (ctx: PiContext) => PiPart;

export function piContexts(lab: Lab): PiContext[] {
  return lab.pis.nodes.map((node, index) => ({
    lab,
    node,
    index,
    os: node.os ?? lab.pis.os,
    model: node.model ?? lab.pis.model,
  }));
}

export const hasRole = (ctx: PiContext, role: PiRole) => ctx.node.roles.includes(role);

/** The NetworkManager connection labgen's keyfile defines on a Pi (bookworm, trixie). */
export const connectionName = (ctx: PiContext) => `lab-${ctx.lab.pis.interface}`;
