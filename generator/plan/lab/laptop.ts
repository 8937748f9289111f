import type { Lab } from '../../model/defaults.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { hostsBlock, hostsBlockWindows } from '../support/hosts-file.js';
import { marker } from '../../common/quote.js';
import { clusterHosts, piHosts } from '../support/cluster-hosts.js';
import { sshHostBlock } from '../support/ssh-config.js';

/** laptop/: what the laptop needs to reach the lab by name: hosts files and ssh_config. */

/** laptop/ssh_config's paths are the lab folder's own: it is used from there. */
const asIs = (rel: string) => rel;

/**
 * ssh_config, for `ssh -F laptop/ssh_config node01` from the lab folder (paths are relative to
 * it). Pis and VMs alike are checked against the host keys labgen made and pinned (a VM's is
 * installed by provision/common.sh): the first connection is already verified.
 */
function sshConfig(lab: Lab): string {
  const hosts = [...piHosts(lab), ...clusterHosts(lab)].map((h) =>
    sshHostBlock({ patterns: [h.name, `${h.name}.${lab.domain}`], hostName: h.ip, user: h.user, identityFile: h.identityFile, alias: h.name }, asIs),
  );
  return `${marker('#')}\n# Use from the lab folder: ssh -F laptop/ssh_config NODE\n\n${hosts.join('\n\n')}\n`;
}

export function planLaptop(lab: Lab): FileSpec[] {
  const file = (path: string, contents: string): FileSpec => ({ path, contents, mode: MODE.file, kind: 'laptop' });
  return [
    file('laptop/hosts', `# Append to /etc/hosts (Linux, macOS), or replace the block from an earlier labgen.\n${hostsBlock(lab)}`),
    file(
      'laptop/hosts.windows',
      `# Append to C:\\Windows\\System32\\drivers\\etc\\hosts as Administrator (seed 003, step 5).\r\n${hostsBlockWindows(lab)}`,
    ),
    file('laptop/ssh_config', sshConfig(lab)),
  ];
}
