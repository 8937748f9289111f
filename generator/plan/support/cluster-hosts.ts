import type { Lab } from '../../model/defaults.js';
import { onExistingHosts, vms } from '../../model/hosts.js';
import { SECRET } from '../../secrets/paths.js';
import { SECRETS_DIR } from '../../common/layout.js';

/**
 * The hosts of the Kubernetes cluster as the tools that log in to them see them: name, address,
 * role, the SSH user and the key file (relative to the lab folder). The one list laptop/ssh_config,
 * the Ansible inventory and the Terraform export are made from: a cluster of hosts you already
 * have (not Vagrant's VMs) is one more branch here, and every export follows.
 */

export type ClusterRole = 'control-plane' | 'worker';

export interface ClusterHost {
  name: string;
  ip: string;
  role: ClusterRole;
  /** the user SSH logs in as */
  user: string;
  /** the private key SSH logs in with, relative to the lab folder */
  identityFile: string;
}

/**
 * Vagrant's VMs: user vagrant, with the key Vagrant made for each machine (in .vagrant/, per
 * provider). Hosts you already have (cluster.provider existing): cluster.ssh.user, with the lab key.
 */
export function clusterHosts(lab: Lab): ClusterHost[] {
  const ssh = lab.cluster.ssh;
  return vms(lab).map((vm) => ({
    name: vm.name,
    ip: vm.ip,
    role: vm.role,
    ...(onExistingHosts(lab) && ssh
      ? { user: ssh.user, identityFile: `${SECRETS_DIR}/${SECRET.sshKey}` }
      : { user: 'vagrant', identityFile: `.vagrant/machines/${vm.name}/${lab.cluster.provider}/private_key` }),
  }));
}

/** The name of cluster.ssh.bastion in ssh_config files and .labgen/known_hosts (`labgen up` pins its key under it). */
export const BASTION = 'lab-bastion';

/** The jump host existing hosts are reached through (cluster.ssh.bastion), as ssh_config names it; none without one. */
export function clusterBastion(lab: Lab): { name: string; address: string; user: string; identityFile: string } | undefined {
  const ssh = lab.cluster.ssh;
  if (!onExistingHosts(lab) || !ssh?.bastion) return undefined;
  return { name: BASTION, address: ssh.bastion.address, user: ssh.bastion.user ?? ssh.user, identityFile: `${SECRETS_DIR}/${SECRET.sshKey}` };
}

/** A Pi as SSH reaches it: the lab user, with the lab's own key. */
export interface PiHost {
  name: string;
  ip: string;
  roles: readonly string[];
  user: string;
  identityFile: string;
}

export function piHosts(lab: Lab): PiHost[] {
  return lab.pis.nodes.map((n) => ({ name: n.name, ip: n.ip, roles: n.roles, user: lab.pis.user, identityFile: `${SECRETS_DIR}/${SECRET.sshKey}` }));
}
