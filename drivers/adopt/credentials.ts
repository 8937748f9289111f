import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Login } from '../base/ssh.js';

/**
 * The user's own ways into a stock Pi, as `ssh` would try them: the agent (SSH_AUTH_SOCK), then
 * the default key files. A password comes last, typed on a terminal (adopt.ts asks): it is never
 * read from a file, an argument or the environment.
 */

/** ssh's default identities, in the order it tries them (DSA left out: OpenSSH dropped it). */
export const KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

export interface OwnCredentials {
  logins: Login[];
  /** keys found but not usable here, and why (a passphrase: ssh-agent can hold them) */
  skipped: string[];
}

const ssh2Utils = () => (createRequire(import.meta.url)('ssh2') as typeof import('ssh2')).utils;

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** A key file's text when it is a private key ssh2 can use without a passphrase; why not, otherwise. */
function usableKey(path: string): { privateKey: string } | { why: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? undefined : { why: `cannot be read (${code})` };
  }
  const parsed = ssh2Utils().parseKey(text);
  if (parsed instanceof Error)
    return { why: /passphrase|encrypted/i.test(parsed.message) ? 'has a passphrase (add it to ssh-agent: ssh-add)' : `is not a key ssh2 reads (${parsed.message})` };
  return { privateKey: text };
}

/** `home`: the user's home folder; `agent`: SSH_AUTH_SOCK (a socket that is not there is left out). */
export function ownCredentials(home: string, agent: string | undefined): OwnCredentials {
  const logins: Login[] = [];
  const skipped: string[] = [];
  if (agent && isSocket(agent)) logins.push({ kind: 'agent', socket: agent });
  else if (agent) skipped.push(`SSH_AUTH_SOCK ${agent} is not a socket (no ssh-agent there)`);
  for (const name of KEY_FILES) {
    const path = join(home, '.ssh', name);
    const key = usableKey(path);
    if (!key) continue;
    if ('why' in key) skipped.push(`~/.ssh/${name} ${key.why}`);
    else logins.push({ kind: 'key', path: `~/.ssh/${name}`, privateKey: key.privateKey });
  }
  return { logins, skipped };
}

/** How a login is named to the user: `ssh-agent`, `~/.ssh/id_ed25519`, `password`. */
export function loginName(l: Login): string {
  return l.kind === 'agent' ? 'ssh-agent' : l.kind === 'key' ? l.path : 'password';
}
