import type { Lab } from '../../model/defaults.js';
import { vms } from '../../model/hosts.js';
import { SECRET } from '../../secrets/paths.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { hostsBlock, hostsBlockWindows } from '../support/hosts-file.js';
import { marker } from '../../common/quote.js';
import { KNOWN_HOSTS, SECRETS_DIR } from '../../common/layout.js';

/** laptop/: what the laptop needs to reach the lab by name: hosts files and ssh_config. */

/**
 * How ssh checks a host: against the key labgen pinned for it in .labgen/known_hosts, looked up
 * by the host's name (HostKeyAlias), so the pin still matches after an IP change and whichever
 * name or address the host is reached by; an unknown or different key is refused.
 */
const pinned = (name: string) => [`  UserKnownHostsFile ${KNOWN_HOSTS}`, `  HostKeyAlias ${name}`, '  StrictHostKeyChecking yes'];

/** ssh_config's name for cluster.ssh.bastion, the jump host of existing hosts. */
export const BASTION = 'lab-bastion';

/**
 * ssh_config, for `ssh -F laptop/ssh_config node01` from the lab folder (paths are relative to
 * it). Pis and VMs alike are checked against the host keys labgen made and pinned (a VM's is
 * installed by provision/common.sh): the first connection is already verified.
 */
function sshConfig(lab: Lab): string {
  const pis = lab.pis.nodes.map((n) =>
    [
      `Host ${n.name} ${n.name}.${lab.domain}`,
      `  HostName ${n.ip}`,
      `  User ${lab.pis.user}`,
      `  IdentityFile ${SECRETS_DIR}/${SECRET.sshKey}`,
      '  IdentitiesOnly yes',
      ...pinned(n.name),
    ].join('\n'),
  );
  const provider = lab.cluster.provider;
  const ssh = lab.cluster.ssh;
  // existing hosts: the lab key as cluster.ssh.user, through the bastion when there is one
  // (its key pinned under its address, as labgen up pinned it)
  const login = (vm: string) =>
    ssh
      ? [`  User ${ssh.user}`, `  IdentityFile ${SECRETS_DIR}/${SECRET.sshKey}`, ...(ssh.bastion ? [`  ProxyJump ${BASTION}`] : [])]
      : ['  User vagrant', `  IdentityFile .vagrant/machines/${vm}/${provider}/private_key`];
  const machines = vms(lab).map((vm) =>
    [`Host ${vm.name} ${vm.name}.${lab.domain}`, `  HostName ${vm.ip}`, ...login(vm.name), '  IdentitiesOnly yes', ...pinned(vm.name)].join('\n'),
  );
  const bastion = ssh?.bastion
    ? [
        [
          `Host ${BASTION}`,
          `  HostName ${ssh.bastion.address}`,
          `  User ${ssh.bastion.user ?? ssh.user}`,
          `  IdentityFile ${SECRETS_DIR}/${SECRET.sshKey}`,
          '  IdentitiesOnly yes',
          ...pinned(BASTION),
        ].join('\n'),
      ]
    : [];
  return `${marker('#')}\n# Use from the lab folder: ssh -F laptop/ssh_config NODE\n\n${[...pis, ...machines, ...bastion].join('\n\n')}\n`;
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
