import type { Lab } from '../../model/defaults.js';
import { vms } from '../../model/hosts.js';
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

/** Vagrant's VMs: user vagrant, with the key Vagrant made for each machine (in .vagrant/, per provider). */
export function clusterHosts(lab: Lab): ClusterHost[] {
  return vms(lab).map((vm) => ({
    name: vm.name,
    ip: vm.ip,
    role: vm.role,
    user: 'vagrant',
    identityFile: `.vagrant/machines/${vm.name}/${lab.cluster.provider}/private_key`,
  }));
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
