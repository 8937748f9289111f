import type { Lab } from '../../model/defaults.js';
import { clusterHosts, piHosts } from '../support/cluster-hosts.js';
import { sshHostBlock } from '../support/ssh-config.js';
import { type ExportContext, exportNote, inLab } from './context.js';

/**
 * The Ansible export's ssh_config: laptop/ssh_config's blocks (support/ssh-config.ts: the same
 * pinned host keys, StrictHostKeyChecking yes) with the lab folder's paths made absolute, each
 * host's address among its patterns (Ansible connects to ansible_host, the address), and the
 * cluster's hosts behind the bastion when there is one. The bastion itself is checked the same
 * way: its key must be pinned in .labgen/known_hosts under its name.
 */
export function planExportSshConfig(lab: Lab, ctx: ExportContext): string {
  const at = inLab(ctx);
  const b = ctx.bastion;
  const jump = b
    ? [sshHostBlock({ patterns: [b.name], hostName: b.address, user: b.user, ...(b.port ? { port: b.port } : {}), ...(b.identityFile ? { identityFile: b.identityFile } : {}), alias: b.name }, at)]
    : [];
  const block = (h: { name: string; ip: string; user: string; identityFile: string }, behind: boolean) =>
    sshHostBlock(
      { patterns: [h.name, `${h.name}.${lab.domain}`, h.ip], hostName: h.ip, user: h.user, identityFile: h.identityFile, alias: h.name, ...(behind && b ? { proxyJump: b.name } : {}) },
      at,
    );
  const blocks = [...jump, ...clusterHosts(lab).map((h) => block(h, true)), ...piHosts(lab).map((h) => block(h, false))];
  return `# ${exportNote('--ansible')}\n# For Ansible (inventory.yaml passes it with -F) or by hand: ssh -F ${ctx.outDir}/ssh_config NODE\n\n${blocks.join('\n\n')}\n`;
}
