import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../generator/common/atomic.js';

/**
 * The lab's known_hosts (.labgen/known_hosts), in OpenSSH's format so `ssh -F laptop/ssh_config`
 * reads the same pins: `names keytype base64 [comment]`, names comma-separated, plain or hashed
 * (`|1|salt|hmac`, as `ssh-keygen -H` writes them), `@revoked` lines refuse a key everywhere.
 * Port 22 only (labgen never uses another), so `[host]:port` names never match.
 */

export interface KnownKey {
  /** the name patterns of the line (plain names, or hashed `|1|…` entries) */
  names: string[];
  type: string;
  /** the key blob (what ssh2 hands to hostVerifier) */
  blob: Buffer;
  revoked: boolean;
}

export type HostKeyVerdict =
  | { status: 'ok' }
  | { status: 'unknown' }
  | { status: 'changed'; recorded: string[] }
  | { status: 'revoked' };

/** `SHA256:…` as `ssh-keygen -l` and ssh print it: base64 of the SHA-256 of the blob, unpadded. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a blob declares (its first SSH string), e.g. `ssh-ed25519`. */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

export function parseKnownHosts(text: string): KnownKey[] {
  const keys: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const revoked = fields[0] === '@revoked';
    if (fields[0]?.startsWith('@') && !revoked) continue; // @cert-authority: labgen pins plain keys only
    const [names, type, b64] = revoked ? fields.slice(1) : fields;
    if (!names || !type || !b64) continue;
    keys.push({ names: names.split(','), type, blob: Buffer.from(b64, 'base64'), revoked });
  }
  return keys;
}

/** Whether one name pattern of a line names `host` (plain, or hashed with the line's salt). */
function nameMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(host).digest('base64') === hash;
  }
  return pattern === host;
}

const namesAny = (k: KnownKey, hosts: string[]) => hosts.some((h) => k.names.some((p) => nameMatches(p, h)));

/**
 * Check the key a host presented against the pins for any of its names (the Pi's node name and
 * the address labgen connects to). A pin for either that equals the key is enough: a Pi keeps
 * its key when its address changes. Any pin that differs, with none equal, is a changed key.
 */
export function verifyHostKey(known: KnownKey[], hosts: string[], presented: Buffer): HostKeyVerdict {
  if (known.some((k) => k.revoked && k.blob.equals(presented))) return { status: 'revoked' };
  const pins = known.filter((k) => !k.revoked && namesAny(k, hosts));
  if (pins.length === 0) return { status: 'unknown' };
  if (pins.some((k) => k.blob.equals(presented))) return { status: 'ok' };
  return { status: 'changed', recorded: [...new Set(pins.map((k) => `${k.type} ${fingerprint(k.blob)}`))] };
}

/** Key types pinned for these names, so the SSH handshake asks for a type that can be checked. */
export function pinnedTypes(known: KnownKey[], hosts: string[]): string[] {
  return [...new Set(known.filter((k) => !k.revoked && namesAny(k, hosts)).map((k) => k.type))];
}

/**
 * The file on disk. Reads are cached; `pin` re-reads, appends and replaces the file atomically
 * (synchronously, so parallel hosts in this process never interleave their writes).
 */
export class KnownHostsFile {
  private keys: KnownKey[];

  constructor(readonly path: string) {
    this.keys = parseKnownHosts(this.read());
  }

  private read(): string {
    return existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
  }

  verify(hosts: string[], presented: Buffer): HostKeyVerdict {
    return verifyHostKey(this.keys, hosts, presented);
  }

  pinnedTypes(hosts: string[]): string[] {
    return pinnedTypes(this.keys, hosts);
  }

  /** Record `blob` for those of `hosts` that have no pin with this very key yet. */
  pin(hosts: string[], blob: Buffer): void {
    const text = this.read();
    const keys = parseKnownHosts(text);
    const missing = hosts.filter((h) => !keys.some((k) => !k.revoked && k.blob.equals(blob) && namesAny(k, [h])));
    if (missing.length === 0) return;
    const line = `${missing.join(',')} ${blobType(blob)} ${blob.toString('base64')}\n`;
    mkdirSync(dirname(this.path), { recursive: true });
    const next = `${text}${text && !text.endsWith('\n') ? '\n' : ''}${line}`;
    writeFileAtomic(this.path, next, 0o644);
    this.keys = parseKnownHosts(next);
  }

  /**
   * `host` no longer holds `blob` (a Pi moved away from that address): take `host` off every
   * pin of this very key, a line left without names goes. Other keys' pins, revoked lines,
   * comments and the order of the file stay as they are.
   */
  unpin(host: string, blob: Buffer): void {
    const text = this.read();
    let changed = false;
    const lines = text.split('\n').flatMap((raw) => {
      const [key] = parseKnownHosts(raw);
      if (!key || key.revoked || !key.blob.equals(blob) || !namesAny(key, [host])) return [raw];
      changed = true;
      const names = key.names.filter((p) => !nameMatches(p, host));
      if (names.length === 0) return [];
      const fields = raw.trim().split(/\s+/);
      return [[names.join(','), ...fields.slice(1)].join(' ')];
    });
    if (!changed) return;
    const next = lines.join('\n');
    writeFileAtomic(this.path, next, 0o644);
    this.keys = parseKnownHosts(next);
  }
}
