import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/**
 * A small zip reader for tests: the central directory (what `unzip -l` lists), in its order,
 * with each entry's unix mode and its bytes. Enough for what archiver writes (stored or
 * deflated, no zip64, no encryption); it throws on anything else rather than guess.
 */
export interface ZipEntry {
  name: string;
  /** unix permission bits (external attributes' high half), 0 when none were stored */
  mode: number;
  dir: boolean;
  /** the DOS date-time field as stored */
  dosTime: number;
  data: Buffer;
}

export function readZip(file: string): ZipEntry[] {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new Error(`${file}: no end of central directory record`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(at + 10);
    const dosTime = buf.readUInt32LE(at + 12);
    const compressed = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const external = buf.readUInt32LE(at + 38);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`${file}: bad local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compressed);
    if (method !== 0 && method !== 8) throw new Error(`${file}: ${name} uses compression method ${method}`);
    entries.push({
      name,
      mode: (external >>> 16) & 0o7777,
      dir: name.endsWith('/'),
      dosTime,
      data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw),
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
