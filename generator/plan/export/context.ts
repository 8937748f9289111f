/**
 * What the export planners need besides the lab: where the lab folder and the export are (an
 * export is used from anywhere, so it names the lab folder's files by absolute path), and the
 * jump host the cluster is reached through, when there is one.
 */

export interface Bastion {
  /** its Host name in the ssh_config, and the name its host key is pinned under in .labgen/known_hosts */
  name: string;
  /** its address or DNS name */
  address: string;
  user: string;
  port?: number;
  /** the key to log in with, relative to the lab folder (none: ssh's own: the agent, ~/.ssh) */
  identityFile?: string;
}

export interface ExportContext {
  /** the lab folder, absolute */
  labDir: string;
  /** the folder the export is written to, absolute */
  outDir: string;
  /** the cluster's hosts are reached through it (ssh_config ProxyJump) */
  bastion?: Bastion;
}

/** A path of the lab folder as the export names it: absolute ("/" joins: ssh and Ansible read POSIX paths). */
export const inLab = (ctx: ExportContext) => (rel: string) => `${ctx.labDir.replace(/\/+$/, '')}/${rel}`;

export const inOut = (ctx: ExportContext, name: string) => `${ctx.outDir.replace(/\/+$/, '')}/${name}`;

/**
 * The first lines of every exported file: what made it and that the next export overwrites it
 * (not generate's marker: these files are not the lab folder's, and a hand edit is not kept).
 */
export const exportNote = (flag: string) => `Made by \`labgen export ${flag}\` from lab.yaml: change lab.yaml, then export again (it overwrites this file).`;
