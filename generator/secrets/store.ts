import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import type { OwnFile } from '../common/own-file.js';
import { hostKeySecret, SECRET } from './paths.js';
import { KNOWN_HOSTS, LABGEN_DIR, SECRETS_DIR } from '../common/layout.js';
import type { Lab } from '../model/defaults.js';
import { onExistingHosts, vms } from '../model/hosts.js';

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

const ssh2Utils = () => (createRequire(import.meta.url)('ssh2') as typeof import('ssh2')).utils;

/**
 * An ed25519 key pair in OpenSSH format, from ssh2 (node-ssh's engine; loaded only when a key
 * is made). ssh2 1.17 drops leading zero bytes of the public key, so about 1 key in 256 comes
 * out malformed (neither ssh2 nor ssh-keygen can read it back): such a key is made again.
 */
function ed25519Pair(comment: string): { private: string; public: string } {
  for (;;) {
    const key = ssh2Utils().generateKeyPairSync('ed25519', { comment });
    if (!(ssh2Utils().parseKey(key.private) instanceof Error)) return key;
  }
}

function newSshKey(labName: string): Secrets['sshKey'] {
  const key = ed25519Pair(`labgen@${labName}`);
  return { private: key.private, public: `${key.public.trim()}\n` };
}

/** A new ed25519 host key for a Pi or a VM, as the OpenSSH private key text sshd reads. */
function newHostKey(node: string): string {
  return ed25519Pair(`root@${node}`).private;
}

/** `ssh-ed25519 AAAA… root@node`: the public half, always derived from the private key so the two never disagree. */
function publicHostKey(privateKey: string, node: string): string {
  const key = ssh2Utils().parseKey(privateKey);
  if (key instanceof Error) throw new Error(`labgen: the host key of ${node} in ${SECRETS_DIR} is unreadable: ${key.message}`);
  const parsed = Array.isArray(key) ? key[0]! : key;
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')} root@${node}\n`;
}

/** A Pi's or a VM's SSH host key pair (OpenSSH text); the image (a VM's provisioning) puts it in place, known_hosts pins it. */
export interface HostKey {
  private: string;
  /** `ssh-ed25519 AAAA… root@node` and a newline */
  public: string;
}

/** A Pi as the store needs it: its host key is pinned under its name and its address. */
export interface PiIdentity {
  name: string;
  ip: string;
}

/**
 * A VM as the store needs it: its host key is pinned under its name, its name in the lab
 * domain and its address (common.sh installs the key when the VM is provisioned).
 */
export interface VmIdentity {
  name: string;
  /** name.domain */
  fqdn: string;
  ip: string;
}

/** The lab's VMs (control plane, then workers), as loadSecrets takes them. */
/**
 * The VMs that get an SSH host key labgen makes (common.sh installs it). Hosts that exist already
 * (provider existing) keep their own: `labgen up` pins it on first contact, once confirmed.
 */
export const vmIdentities = (lab: Lab): VmIdentity[] =>
  onExistingHosts(lab) ? [] : vms(lab).map((vm) => ({ name: vm.name, fqdn: `${vm.name}.${lab.domain}`, ip: vm.ip }));

/** A host whose key is pinned: its name first, then the other names of its pin line. */
interface PinnedHost {
  name: string;
  names: string[];
}

interface Entry {
  file: string;
  create: () => string;
  /** the entry it is derived from: made anew whenever that one is (a public half, a hash) */
  from?: string;
}

export interface SecretsResult {
  secrets: Secrets;
  /** each Pi's SSH host key, by node name (only for the Pis passed to loadSecrets) */
  hostKeys: Record<string, HostKey>;
  /** each VM's SSH host key, by VM name (only for the VMs passed in `opts.vms`) */
  vmHostKeys: Record<string, HostKey>;
  /** files that do not exist yet, or are made anew with their source (made in memory; written by the writer's transaction through `pending`, or by `persist`) */
  missing: string[];
  /** every secret file of this lab, by name under .labgen/secrets/ (what the manifest records) */
  names: string[];
  /**
   * secrets labgen made before (`recorded`) that are gone: the lab's identity, which a new
   * secret would replace without a word (a lab carried without `export --with-secrets`)
   */
  lost: string[];
  /** a secret's bytes by its file name under .labgen/secrets/ (setup.sh's secrets/ folder holds copies) */
  file: (name: string) => Buffer | undefined;
  /** the missing files, for the writer's transaction: paths relative to the lab folder */
  pending: () => OwnFile[];
  /** write the missing files now, outside a transaction (tests, tools) */
  persist: () => void;
}

/** `missing`'s entry for Pis and VMs not pinned in .labgen/known_hosts yet (relative to the secrets folder, like the others). */
export const KNOWN_HOSTS_ENTRY = '../known_hosts';

/** Names the lines of a known_hosts text pin (plain names; hashed ones never equal a node name). */
function pinnedNames(known: string): Set<string> {
  return new Set(known.split('\n').flatMap((line) => (line.startsWith('#') || line.startsWith('@') ? [] : (line.split(/\s+/)[0] ?? '').split(','))));
}

/** `node01,10.0.0.2 ssh-ed25519 AAAA…`: a host key pinned under the host's names. */
const pinLine = (host: PinnedHost, publicKey: string) => `${host.names.join(',')} ${publicKey.split(' ').slice(0, 2).join(' ')}\n`;

/** known_hosts without the lines that pin `names` (their host keys are new). */
function unpin(known: string, names: ReadonlySet<string>): string {
  if (!names.size) return known;
  return known
    .split(/(?<=\n)/)
    .filter((line) => line.startsWith('#') || line.startsWith('@') || !(line.split(/\s+/)[0] ?? '').split(',').some((n) => names.has(n)))
    .join('');
}

export interface LoadOptions {
  /**
   * the secret files the manifest says labgen made for this lab; any of them missing is `lost`.
   * Undefined (a manifest from before labgen recorded them): every secret of the lab's own.
   */
  recorded?: readonly string[];
  /** the lab's VMs (vmIdentities): each gets its own SSH host key too, pinned like a Pi's */
  vms?: readonly VmIdentity[];
}

/**
 * Read the lab's secrets; make the missing ones in memory. Nothing is written here: `pending`
 * hands them to the writer's transaction (`persist` writes them at once, for tests and tools).
 * `pis`: the lab's Pis, each of which gets its own SSH host key (made once, for the image to
 * bake in) pinned in .labgen/known_hosts under its name and address, so the first connection to
 * a flashed Pi is already verified. A Pi with a pin under its name keeps it. The VMs in
 * `opts.vms` get theirs the same way (common.sh installs it), pinned under their name, their
 * name in the lab domain and their address: the first `ssh -F laptop/ssh_config VM` is checked too.
 */
export function loadSecrets(labDir: string, labName: string, pis: readonly PiIdentity[] = [], opts: LoadOptions = {}): SecretsResult {
  const dir = join(labDir, SECRETS_DIR);
  let sshKey: Secrets['sshKey'] | undefined;
  const values: Record<string, string> = {};
  const entries: Record<string, Entry> = {
    sshKey: { file: SECRET.sshKey, create: () => (sshKey ??= newSshKey(labName)).private },
    sshPublicKey: { file: SECRET.sshPublicKey, create: () => (sshKey ??= newSshKey(labName)).public, from: 'sshKey' },
    kubeadmToken: { file: SECRET.kubeadmToken, create: () => `${randomToken(6)}.${randomToken(16)}\n` },
    mungeKey: { file: SECRET.mungeKey, create: () => randomBytes(1024).toString('latin1') },
    // no final newline: kustomize's secretGenerator puts a file's bytes into the Secret as they are
    registryPassword: { file: SECRET.registryPassword, create: () => randomToken(24) },
    // made from the password above (created or read first: entries are handled in this order)
    registryHtpasswd: { file: SECRET.registryHtpasswd, create: () => htpasswdLine(REGISTRY_USER, values.registryPassword!), from: 'registryPassword' },
    grafanaAdminPassword: { file: SECRET.grafanaAdminPassword, create: () => randomToken(24) },
  };
  const vmList = opts.vms ?? [];
  // every host with a key of its own: the Pis, then the VMs (pinned in this order too)
  const hosts: PinnedHost[] = [
    ...pis.map((p) => ({ name: p.name, names: [p.name, p.ip] })),
    ...vmList.map((v) => ({ name: v.name, names: [v.name, v.fqdn, v.ip] })),
  ];
  for (const { name } of hosts) {
    entries[`hostKey:${name}`] = { file: hostKeySecret(name), create: () => newHostKey(name) };
    // read or made right after the private key above, and derived from it
    entries[`hostKeyPub:${name}`] = { file: `${hostKeySecret(name)}.pub`, create: () => publicHostKey(values[`hostKey:${name}`]!, name), from: `hostKey:${name}` };
  }
  const missing: string[] = [];
  const made = new Set<string>(); // the entries made in memory (a Set: 20,000 of them in a 10,000-Pi lab)
  for (const [key, e] of Object.entries(entries)) {
    const path = join(dir, e.file);
    // latin1 maps bytes 1:1 to characters, so binary keys survive the round trip; a half derived
    // from a secret made just now is made again with it, never kept from the old one
    const sourceIsNew = e.from !== undefined && made.has(e.from);
    if (existsSync(path) && !sourceIsNew) values[key] = readFileSync(path, 'latin1');
    else {
      values[key] = e.create();
      missing.push(e.file);
      made.add(key);
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
  // every Pi and VM is pinned in known_hosts (made from the secrets, like the lab folder: the
  // same secrets give the same file); a host already pinned under its name keeps its pin, unless
  // its host key is new (--new-secrets): then the old pin goes
  const knownHosts = join(labDir, KNOWN_HOSTS);
  const read = existsSync(knownHosts) ? readFileSync(knownHosts, 'utf8') : '';
  // a new host key unpins the old one under each of the host's names (a cut-over pins a Pi's address alone)
  const rekeyed = hosts.filter((h) => made.has(`hostKey:${h.name}`));
  const known = unpin(read, new Set(rekeyed.flatMap((h) => h.names)));
  const pinned = pinnedNames(known);
  const unpinned = hosts.filter((h) => !pinned.has(h.name));
  if (unpinned.length || known !== read) missing.push(KNOWN_HOSTS_ENTRY);
  const keyOfHost = (name: string): HostKey => ({ private: values[`hostKey:${name}`]!, public: values[`hostKeyPub:${name}`]! });
  const hostKeys: Record<string, HostKey> = Object.fromEntries(pis.map(({ name }) => [name, keyOfHost(name)]));
  const vmHostKeys: Record<string, HostKey> = Object.fromEntries(vmList.map(({ name }) => [name, keyOfHost(name)]));
  const names = Object.values(entries).map((e) => e.file);
  // before manifests recorded them: the lab's own secrets, and the host keys of the Pis (and VMs) pinned
  const recorded = opts.recorded ?? names.filter((n) => !n.startsWith('hostkeys/') || pinnedNames(read).has(n.split('/')[1]!));
  const missingSet = new Set(missing);
  const lost = recorded.filter((n) => missingSet.has(n));

  const pending = (): OwnFile[] => {
    const toWrite = new Set(missing);
    const files: OwnFile[] = [];
    // known_hosts first: a run killed after it but before a new host key makes that key again
    // and pins it anew, where the other order would leave a new key behind an old pin
    if (toWrite.has(KNOWN_HOSTS_ENTRY)) {
      const add = unpinned.map((host) => pinLine(host, values[`hostKeyPub:${host.name}`]!)).join('');
      files.push({ path: KNOWN_HOSTS, contents: `${known}${known && !known.endsWith('\n') ? '\n' : ''}${add}` });
    }
    // the .gitignore before the secrets it hides
    if (!existsSync(join(dir, '.gitignore')))
      files.push({ path: `${SECRETS_DIR}/.gitignore`, contents: '# labgen: secrets never go into git\n*\n', dirMode: 0o700 });
    for (const [key, e] of Object.entries(entries))
      if (toWrite.has(e.file)) files.push({ path: `${SECRETS_DIR}/${e.file}`, contents: Buffer.from(values[key]!, 'latin1'), mode: 0o600, dirMode: 0o700 });
    return files;
  };
  const persist = () => {
    mkdirSync(join(labDir, LABGEN_DIR), { recursive: true });
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o700);
    for (const f of pending()) {
      const path = join(labDir, f.path);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 }); // hostkeys/<node>/
      writeFileAtomic(path, f.contents!, f.mode ?? 0o644);
    }
  };
  const keyOf = new Map(Object.entries(entries).map(([key, e]) => [e.file, key])); // push asks per Pi: no scan of 20,000 entries each time
  const file = (name: string) => {
    const key = keyOf.get(name);
    return key === undefined ? undefined : Buffer.from(values[key]!, 'latin1');
  };
  return { secrets, hostKeys, vmHostKeys, missing, names, lost, file, pending, persist };
}
