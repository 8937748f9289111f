import { createRequire } from 'node:module';
import type { HostKey } from '../../generator/secrets/store.js';
import type { StatOf } from './ext4.js';

/**
 * An image is checked before it is handed over: every file labgen placed is read back out of
 * it (bytes, mode, owner), and the host key it carries is the one pinned in
 * .labgen/known_hosts, so the first `ssh` to the flashed Pi is verified, not trusted anew.
 */

export interface Placed {
  /** where: `boot:cmdline.txt`, `/etc/ssh/ssh_host_ed25519_key` */
  where: string;
  contents: Buffer;
  /** rootfs files only: what stat must say */
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface ReadBack {
  contents: Buffer;
  stat?: StatOf;
}

/** What differs between what was placed and what the image holds (pure). */
export function readBackProblems(placed: Placed[], back: ReadonlyMap<string, ReadBack | undefined>): string[] {
  const out: string[] = [];
  for (const p of placed) {
    const b = back.get(p.where);
    if (!b) {
      out.push(`${p.where}: not in the image`);
      continue;
    }
    if (b.stat && b.stat.type !== 'regular') out.push(`${p.where}: a ${b.stat.type} in the image, not a file`);
    if (!b.contents.equals(p.contents)) out.push(`${p.where}: its contents differ from what was written`);
    if (b.stat && p.mode !== undefined && (b.stat.mode & 0o7777) !== (p.mode & 0o7777)) out.push(`${p.where}: mode ${b.stat.mode.toString(8)}, not ${p.mode.toString(8)}`);
    if (b.stat && p.uid !== undefined && b.stat.uid !== p.uid) out.push(`${p.where}: owner ${b.stat.uid}, not ${p.uid}`);
    if (b.stat && p.gid !== undefined && b.stat.gid !== p.gid) out.push(`${p.where}: group ${b.stat.gid}, not ${p.gid}`);
  }
  return out;
}

const PRIVATE_BLOCK = /-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]*?-----END OPENSSH PRIVATE KEY-----/g;

/** An OpenSSH private key's text with each line's indentation gone (as YAML's block scalars hold it). */
const unindent = (block: string) => `${block.split('\n').map((l) => l.trim()).join('\n')}\n`;

/** The public blob of an OpenSSH private key (ssh2, loaded only here), or undefined when it cannot be read. */
function publicBlob(privateKey: string): Buffer | undefined {
  const utils = (createRequire(import.meta.url)('ssh2') as typeof import('ssh2')).utils;
  const key = utils.parseKey(privateKey);
  if (key instanceof Error) return undefined;
  return (Array.isArray(key) ? key[0]! : key).getPublicSSH();
}

/** The base64 blob of `ssh-ed25519 AAAA… comment`. */
const blobOf = (publicLine: string) => publicLine.trim().split(/\s+/)[1] ?? '';

/** The base64 body of an OpenSSH private key, without line breaks or blanks: how to recognise it inside another file. */
const bodyOf = (privateKey: string) => privateKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

/**
 * Whether the image carries the Pi's host key as pinned: the files that hold its private half
 * (alone, or inside cloud-init's user-data) or its public half, as read back from the image,
 * must hold the key `pinned` accepts. At least one must hold the private half, or sshd would
 * make a key of its own on first boot and the pin would never match.
 */
export function hostKeyProblems(files: { where: string; planned: Buffer; back: Buffer }[], hostKey: HostKey, pinned: (blob: Buffer) => boolean): string[] {
  const pub = blobOf(hostKey.public);
  const body = bodyOf(hostKey.private);
  const privates = files.filter((f) => f.planned.toString('utf8').replace(/\s+/g, '').includes(body));
  const publics = files.filter((f) => f.planned.toString('utf8').includes(pub));
  if (!privates.length) return ['no file of the image holds its SSH host key (labgen bug: the image plan leaves it out)'];
  const out: string[] = [];
  for (const f of privates) {
    const blocks = [...f.back.toString('utf8').matchAll(PRIVATE_BLOCK)].map((m) => publicBlob(unindent(m[0])));
    if (!blocks.some((b) => b && pinned(b))) out.push(`${f.where}: its SSH host key is not the one pinned in .labgen/known_hosts`);
  }
  for (const f of publics) {
    const blobs = [...f.back.toString('utf8').matchAll(/ssh-ed25519 ([A-Za-z0-9+/]+=*)/g)].map((m) => Buffer.from(m[1]!, 'base64'));
    if (!blobs.some(pinned)) out.push(`${f.where}: its public SSH host key is not the one pinned in .labgen/known_hosts`);
  }
  return out;
}
