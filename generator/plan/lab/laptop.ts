import type { Lab } from '../../model/defaults.js';
import { vms } from '../../model/hosts.js';
import { SECRET } from '../../secrets/paths.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { hostsBlock, hostsBlockWindows } from '../support/hosts-file.js';
import { marker } from '../../common/quote.js';
import { KNOWN_HOSTS, SECRETS_DIR } from '../../common/layout.js';

/** laptop/: what the laptop needs to reach the lab by name: hosts files and ssh_config. */

/**
 * ssh_config, for `ssh -F laptop/ssh_config node01` from the lab folder (paths are relative to
 * it). Pis are checked against the host keys labgen pinned; VMs keep ssh's own prompt.
 */
function sshConfig(lab: Lab): string {
  const pis = lab.pis.nodes.map((n) =>
    [
      `Host ${n.name} ${n.name}.${lab.domain}`,
      `  HostName ${n.ip}`,
      `  User ${lab.pis.user}`,
      `  IdentityFile ${SECRETS_DIR}/${SECRET.sshKey}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${KNOWN_HOSTS}`,
      // the pinned key is looked up by the Pi's name, so it still matches after an IP change
      `  HostKeyAlias ${n.name}`,
      '  StrictHostKeyChecking yes',
    ].join('\n'),
  );
  const provider = lab.cluster.provider;
  const machines = vms(lab).map((vm) =>
    [
      `Host ${vm.name} ${vm.name}.${lab.domain}`,
      `  HostName ${vm.ip}`,
      '  User vagrant',
      `  IdentityFile .vagrant/machines/${vm.name}/${provider}/private_key`,
      '  IdentitiesOnly yes',
    ].join('\n'),
  );
  return `${marker('#')}\n# Use from the lab folder: ssh -F laptop/ssh_config NODE\n\n${[...pis, ...machines].join('\n\n')}\n`;
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
