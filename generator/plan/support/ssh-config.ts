import { sshConfigQuote } from '../../common/quote.js';
import { KNOWN_HOSTS } from '../../common/layout.js';

/**
 * ssh_config(5) host blocks, for laptop/ssh_config and the Ansible export's ssh_config: one way
 * labgen tells ssh how to reach a host and how to check it.
 */

export interface SshHost {
  /** the Host patterns (names, and for a tool that connects by address, the address) */
  patterns: string[];
  hostName: string;
  user: string;
  port?: number;
  /** the key file, relative to the lab folder (none: ssh's own choice, the agent or ~/.ssh) */
  identityFile?: string;
  /** the name its host key is pinned under in .labgen/known_hosts */
  alias: string;
  /** a jump host's Host name, when the host is reached through one */
  proxyJump?: string;
}

/**
 * How ssh checks a host: against the key labgen pinned for it in .labgen/known_hosts, looked up
 * by the host's name (HostKeyAlias), so the pin still matches after an IP change and whichever
 * name or address the host is reached by; an unknown or different key is refused. `at` turns a
 * path relative to the lab folder into the one the file says (laptop/ssh_config: as it is).
 */
export function pinnedOptions(alias: string, at: (rel: string) => string): string[] {
  return [`  UserKnownHostsFile ${sshConfigQuote(at(KNOWN_HOSTS))}`, `  HostKeyAlias ${alias}`, '  StrictHostKeyChecking yes'];
}

export function sshHostBlock(h: SshHost, at: (rel: string) => string): string {
  return [
    `Host ${h.patterns.join(' ')}`,
    `  HostName ${h.hostName}`,
    `  User ${h.user}`,
    ...(h.port ? [`  Port ${h.port}`] : []),
    ...(h.identityFile ? [`  IdentityFile ${sshConfigQuote(at(h.identityFile))}`, '  IdentitiesOnly yes'] : []),
    ...(h.proxyJump ? [`  ProxyJump ${h.proxyJump}`] : []),
    ...pinnedOptions(h.alias, at),
  ].join('\n');
}
