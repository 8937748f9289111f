import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
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
  /** `pinnedFor`: the key presented is pinned for these other names (another host of the lab answered) */
  | { status: 'changed'; recorded: string[]; pinnedFor?: string[] }
  | { status: 'revoked' };

/** A host as labgen checks it: its own name (a Pi's node name), and the address it was reached at. */
export interface HostNames {
  node: string;
  address: string;
}

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

/** The key blob of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`): its second field, decoded. */
export function publicKeyBlob(line: string): Buffer {
  return Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
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
 * The pins that decide for `h`: those under its own name when it has any (an address is shared:
 * a DHCP address, raspberrypi.local, one Pi after another), else those under the address it was
 * reached at (a host labgen knows by address only).
 */
function authority(known: KnownKey[], h: HostNames): KnownKey[] {
  const live = known.filter((k) => !k.revoked);
  const own = live.filter((k) => namesAny(k, [h.node]));
  return own.length ? own : live.filter((k) => namesAny(k, [h.address]));
}

/**
 * The hosts other than `h` that `blob` is pinned for: the names (a node's, a VM's) of its pins,
 * not `h`'s own or its address. An IP address is left out (a Pi's old address, which it may
 * have left: not another host), and so is a hashed name (whose it is cannot be told).
 */
function pinnedElsewhere(known: KnownKey[], h: HostNames, blob: Buffer): string[] {
  const names = known
    .filter((k) => !k.revoked && k.blob.equals(blob))
    .flatMap((k) => k.names)
    .filter((p) => !p.startsWith('|1|') && isIP(p) === 0 && p !== h.node && p !== h.address);
  return [...new Set(names)];
}

/**
 * Check the key a host presented. The pins under its own name decide (a Pi keeps its key when
 * its address changes; an address may be another Pi's now); only a host with none is checked
 * against the pins of its address. A key pinned for another host is never this one's, whatever
 * the pins say (two Pis adopted at one address: the one answering there may be the other).
 */
export function verifyHostKey(known: KnownKey[], h: HostNames, presented: Buffer): HostKeyVerdict {
  if (known.some((k) => k.revoked && k.blob.equals(presented))) return { status: 'revoked' };
  const pins = authority(known, h);
  const recorded = [...new Set(pins.map((k) => `${k.type} ${fingerprint(k.blob)}`))];
  const ownPin = known.some((k) => !k.revoked && k.blob.equals(presented) && namesAny(k, [h.node]));
  const elsewhere = ownPin ? [] : pinnedElsewhere(known, h, presented);
  if (elsewhere.length) return { status: 'changed', recorded, pinnedFor: elsewhere };
  if (pins.length === 0) return { status: 'unknown' };
  if (pins.some((k) => k.blob.equals(presented))) return { status: 'ok' };
  return { status: 'changed', recorded };
}

/** Key types of the pins that decide for `h`, so the SSH handshake asks for a type that can be checked. */
export function pinnedTypes(known: KnownKey[], h: HostNames): string[] {
  return [...new Set(authority(known, h).map((k) => k.type))];
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

  verify(h: HostNames, presented: Buffer): HostKeyVerdict {
    return verifyHostKey(this.keys, h, presented);
  }

  pinnedTypes(h: HostNames): string[] {
    return pinnedTypes(this.keys, h);
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
   * pin of this very key (of any key without `blob`: a host that left the lab), a line left
   * without names goes. Other pins, revoked lines, comments and the order of the file stay.
   */
  unpin(host: string, blob?: Buffer): void {
    const text = this.read();
    let changed = false;
    const lines = text.split('\n').flatMap((raw) => {
      const [key] = parseKnownHosts(raw);
      if (!key || key.revoked || (blob && !key.blob.equals(blob)) || !namesAny(key, [host])) return [raw];
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
