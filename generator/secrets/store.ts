import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileAtomic } from '../writer/atomic.js';
import { LABGEN_DIR, SECRET, SECRETS_DIR } from './paths.js';

/**
 * The lab's secrets, created once in .labgen/secrets/ (0700 folder, 0600 files, git-ignored)
 * and reused, so the same lab.yaml gives the same files. They never reach stdout.
 */
export interface Secrets {
  /** the lab's own SSH key (OpenSSH format): labgen logs in to the Pis with it */
  sshKey: { private: string; public: string };
  /** kubeadm bootstrap token the workers join with ([a-z0-9]{6}.[a-z0-9]{16}) */
  kubeadmToken: string;
  /** munge's shared key (1024 random bytes, as `mungekey` makes it), base64 here */
  mungeKey: string;
  /** the lab registry's password (user REGISTRY_USER); ChartMuseum uses it too */
  registryPassword: string;
  /** `REGISTRY_USER:$2b$...` for the registry's htpasswd auth: bcrypt is salted, so it is made once */
  registryHtpasswd: string;
  /** Grafana's admin password */
  grafanaAdminPassword: string;
}

/** The one user of the lab registry (seed 002's `admin`). */
export const REGISTRY_USER = 'admin';

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomToken(length: number): string {
  return Array.from(randomBytes(length), (b) => TOKEN_CHARS[b % TOKEN_CHARS.length]).join('');
}

/** An htpasswd line with a bcrypt hash, as `htpasswd -Bbn` writes it (the registry accepts only bcrypt). */
function htpasswdLine(user: string, password: string): string {
  // bcryptjs (pure JS, no native build): loaded only when the line is made
  const bcrypt = createRequire(import.meta.url)('bcryptjs') as typeof import('bcryptjs');
  return `${user}:${bcrypt.hashSync(password, 10)}\n`;
}

function newSshKey(labName: string): Secrets['sshKey'] {
  // ssh2 (node-ssh's engine) writes OpenSSH-format keys; loaded only when a key is made
  const { utils } = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');
  const key = utils.generateKeyPairSync('ed25519', { comment: `labgen@${labName}` });
  return { private: key.private, public: `${key.public.trim()}\n` };
}

interface Entry {
  file: string;
  create: () => string;
}

export interface SecretsResult {
  secrets: Secrets;
  /** files that do not exist yet (made in memory; written only by `persist`) */
  missing: string[];
  persist: () => void;
}

/** Read the lab's secrets; make the missing ones in memory. Nothing is written until persist(). */
export function loadSecrets(labDir: string, labName: string): SecretsResult {
  const dir = join(labDir, SECRETS_DIR);
  let sshKey: Secrets['sshKey'] | undefined;
  const values: Record<string, string> = {};
  const entries: Record<string, Entry> = {
    sshKey: { file: SECRET.sshKey, create: () => (sshKey ??= newSshKey(labName)).private },
    sshPublicKey: { file: SECRET.sshPublicKey, create: () => (sshKey ??= newSshKey(labName)).public },
    kubeadmToken: { file: SECRET.kubeadmToken, create: () => `${randomToken(6)}.${randomToken(16)}\n` },
    mungeKey: { file: SECRET.mungeKey, create: () => randomBytes(1024).toString('latin1') },
    // no final newline: kustomize's secretGenerator puts a file's bytes into the Secret as they are
    registryPassword: { file: SECRET.registryPassword, create: () => randomToken(24) },
    // made from the password above (created or read first: entries are handled in this order)
    registryHtpasswd: { file: SECRET.registryHtpasswd, create: () => htpasswdLine(REGISTRY_USER, values.registryPassword!) },
    grafanaAdminPassword: { file: SECRET.grafanaAdminPassword, create: () => randomToken(24) },
  };
  const missing: string[] = [];
  for (const [key, e] of Object.entries(entries)) {
    const path = join(dir, e.file);
    // latin1 maps bytes 1:1 to characters, so binary keys survive the round trip
    if (existsSync(path)) values[key] = readFileSync(path, 'latin1');
    else {
      values[key] = e.create();
      missing.push(e.file);
    }
  }
  const secrets: Secrets = {
    sshKey: { private: values.sshKey!, public: values.sshPublicKey! },
    kubeadmToken: values.kubeadmToken!.trim(),
    mungeKey: Buffer.from(values.mungeKey!, 'latin1').toString('base64'),
    registryPassword: values.registryPassword!,
    registryHtpasswd: values.registryHtpasswd!,
    grafanaAdminPassword: values.grafanaAdminPassword!,
  };
  const persist = () => {
    mkdirSync(join(labDir, LABGEN_DIR), { recursive: true });
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o700);
    const ignore = join(dir, '.gitignore');
    if (!existsSync(ignore)) writeFileAtomic(ignore, '# labgen: secrets never go into git\n*\n', 0o644);
    for (const [key, e] of Object.entries(entries))
      if (missing.includes(e.file)) writeFileAtomic(join(dir, e.file), Buffer.from(values[key]!, 'latin1'), 0o600);
  };
  return { secrets, missing, persist };
}
