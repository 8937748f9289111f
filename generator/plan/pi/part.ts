import type { Lab } from '../../model/defaults.js';
import type { PI_MODELS, PI_OS, PI_ROLES } from '../../model/schema.js';

/**
 * What one concern (network, hosts, apt, storage, Slurm, monitoring) contributes to a Pi.
 * index.ts merges the parts into the Pi's rootfs/ files and its setup.sh.
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
  /**
   * its files must be on the Pi before the first push: `labgen image` places them in the image's
   * root file system (the address, the names, the apt proxy), the first push does the rest
   */
  firstBoot?: boolean;
}

export type PiPlanner = (ctx: PiContext) => PiPart;

/**
 * labgen's folder on every Pi: setup.sh, rootfs/ and secrets/ as in pis/<node>/ (push places
 * them there; setup.sh places its files from there), and push's bookkeeping.
 */
export const PI_STAGE = {
  dir: '/var/lib/labgen',
  setup: '/var/lib/labgen/setup.sh',
  rootfs: '/var/lib/labgen/rootfs',
  secrets: '/var/lib/labgen/secrets',
  /** sha256 of the setup.sh (and secrets) that last ran to the end: a failed run is retried next push */
  stamp: '/var/lib/labgen/setup.stamp',
  /** handlers owed for files already placed, kept until they ran (a push cut off in between owes them) */
  pending: '/var/lib/labgen/pending',
} as const;

/**
 * What the drivers (push and status; image and up) need to know of a Pi besides its files, as
 * data from the plan (index.ts), so no driver asks a part again or reads it back from setup.sh.
 */
export interface PiFacts {
  node: string;
  /** its address in lab.yaml */
  ip: string;
  /** the SSH user (lab.pis.user) */
  user: string;
  os: PiOs;
  /** paths on the Pi of its network config (rootfs files): a change to one is applied last, guarded */
  networkFiles: string[];
  /** paths on the Pi of the rootfs files an image holds from the start (parts with `firstBoot`) */
  firstBootFiles: string[];
  /**
   * The commands that apply a changed network config and return once it is in effect, in
   * order, each of which must succeed: setup.sh runs them one per line, push joined by `&&`.
   */
  applyNetwork: string[];
  /** the secrets setup.sh installs from secrets/ beside it: names under .labgen/secrets/ */
  secrets: string[];
  /** the services setup.sh keeps enabled and running */
  services: string[];
  /** where labgen's copies live on the Pi */
  stage: typeof PI_STAGE;
}

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
