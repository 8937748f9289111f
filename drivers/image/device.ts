import { createHash } from 'node:crypto';
import { constants, existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { shellQuote } from '../../generator/common/quote.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import type { Runner } from '../base/runner.js';
import type { OnBytes } from './sparse.js';

/**
 * `--device DEV`: the finished image written to a card and read back. What may be written is
 * decided by a pure function over what the machine says (stat, /sys, /proc/self/mountinfo,
 * /proc/swaps), so every refusal is tested with made-up readings:
 * - never the disk that holds `/`, nor one that is mounted, swapped on or held by LVM/RAID/dm
 *   (a partition of it included): --force does not change that;
 * - a partition (`/dev/sdb1`): the image is a whole disk;
 * - a block device that is neither removable nor on USB or MMC (an internal disk), and a
 *   regular file (the tests' stand-in for a card): only with --force;
 * - anything smaller than the image.
 * The device is opened for writing only after every check passed, and checked again right before.
 */

/** One block device as /sys shows it. */
export interface BlockInfo {
  /** kernel name: sdb, mmcblk0, sdb1 */
  name: string;
  /** major:minor */
  devno: string;
  partition: boolean;
  /** the whole disk a partition is on (its own name for a disk) */
  disk: string;
}

/** The disk a path names, as /sys shows it. */
export interface DiskInfo {
  name: string;
  devno: string;
  /** /sys/block/X/removable */
  removable: boolean;
  /** usb, mmc, or undefined (ata, nvme, virtio, loop …): from where the device sits in /sys/devices */
  transport?: 'usb' | 'mmc';
  /** bytes */
  size: number;
  /** vendor and model (USB, SCSI) or name (MMC), as the device reports them */
  model?: string;
  /** its partitions' major:minor */
  partitions: string[];
  /** devices built on it or its partitions (dm, md, LVM): /sys/block/X[/P]/holders */
  holders: string[];
}

export type DeviceReading =
  | { kind: 'missing'; path: string }
  | { kind: 'other'; path: string; what: string }
  | { kind: 'file'; path: string; size: number }
  | { kind: 'block'; path: string; self: BlockInfo; disk: DiskInfo };

/** The machine's state that decides whether a disk is in use. */
export interface InUse {
  /** major:minor of the disks `/` is on (through partitions, dm, md …) */
  rootDisks: string[];
  /** major:minor of every mounted block device (/proc/self/mountinfo) */
  mounted: string[];
  /** major:minor of every active swap device (/proc/swaps) */
  swaps: string[];
}

export type Verdict =
  | { ok: true; size: number; description: string }
  | { ok: false; reason: string; hint?: string };

const GB = (n: number) => `${(n / 1e9).toFixed(1)} GB`;

/** What to show before writing: `/dev/sdb (SanDisk Ultra, 31.9 GB, USB)`. */
export function describeDevice(r: DeviceReading): string {
  if (r.kind === 'file') return `${r.path} (a regular file, ${GB(r.size)})`;
  if (r.kind !== 'block') return r.path;
  const d = r.disk;
  const bits = [d.model, GB(d.size), d.transport?.toUpperCase() ?? (d.removable ? 'removable' : undefined)].filter(Boolean);
  return `${r.path} (${bits.join(', ')})`;
}

/** Whether `r` may be overwritten with an image of `imageSize` bytes (pure). `force`: allow a fixed disk or a regular file. */
export function deviceVerdict(r: DeviceReading, use: InUse, imageSize: number, force: boolean): Verdict {
  const no = (reason: string, hint?: string): Verdict => ({ ok: false, reason: `--device ${r.path} ${reason}`, ...(hint ? { hint } : {}) });
  if (r.kind === 'missing') return no('does not exist', 'name the card as a whole disk, e.g. /dev/sdb or /dev/mmcblk0 (lsblk lists them)');
  if (r.kind === 'other') return no(`is ${r.what}, not a disk`);
  if (r.kind === 'file') {
    if (!force) return no('is a regular file, not a block device', 'name the card (lsblk lists the disks); --force writes into a regular file');
    if (r.size < imageSize) return no(`is ${r.size} bytes, smaller than the image (${imageSize} bytes)`);
    return { ok: true, size: r.size, description: describeDevice(r) };
  }
  const d = r.disk;
  if (r.self.partition) return no(`is a partition of /dev/${d.name}`, `write the whole card: --device /dev/${d.name}`);
  if (use.rootDisks.includes(d.devno)) return no(`is the disk that holds / (the running system): never written`);
  const inUse = [d.devno, ...d.partitions];
  const mounted = inUse.filter((n) => use.mounted.includes(n));
  if (mounted.length) return no(`is mounted (${mounted.length === 1 && mounted[0] === d.devno ? 'the disk itself' : `${mounted.length} of its partitions`})`, `unmount it first (e.g. udisksctl unmount, or umount /dev/${d.name}*)`);
  if (inUse.some((n) => use.swaps.includes(n))) return no('holds active swap', `swapoff its partitions first`);
  if (d.holders.length) return no(`is in use by ${d.holders.join(', ')} (LVM, RAID or device-mapper)`);
  if (!d.removable && !d.transport && !force)
    return no('is not a removable disk (not on USB or an SD/MMC slot)', 'if it really is the card, --force writes it (everything on it is lost)');
  if (d.size < imageSize) return no(`holds ${d.size} bytes, less than the image (${imageSize} bytes)`, 'use a bigger card');
  return { ok: true, size: d.size, description: describeDevice(r) };
}

// ---------------------------------------------------------------- the machine's readings

/** Where the kernel's views are (tests point these elsewhere). */
export interface SysPaths {
  sys: string;
  proc: string;
}
const SYS: SysPaths = { sys: '/sys', proc: '/proc' };

const devnoOf = (rdev: number | bigint) => {
  const d = BigInt(rdev);
  // glibc's gnu_dev_major/minor: the 64-bit dev_t's split fields
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
};

const readTrim = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};
const list = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** The block device of major:minor as /sys names it. */
function blockInfo(devno: string, s: SysPaths): BlockInfo | undefined {
  const link = join(s.sys, 'dev/block', devno);
  if (!existsSync(link)) return undefined;
  const real = realpathSync(link);
  const partition = existsSync(join(real, 'partition'));
  return { name: basename(real), devno, partition, disk: partition ? basename(join(real, '..')) : basename(real) };
}

function diskInfo(name: string, s: SysPaths): DiskInfo {
  const dir = join(s.sys, 'block', name);
  const real = realpathSync(dir);
  const parts = list(dir).filter((p) => existsSync(join(dir, p, 'partition')));
  const model = [readTrim(join(dir, 'device/vendor')), readTrim(join(dir, 'device/model')) ?? readTrim(join(dir, 'device/name'))].filter(Boolean).join(' ');
  const transport = /\/usb\d*\//.test(real) ? 'usb' : /\/mmc_host\/|\/mmc\d+\//.test(real) ? 'mmc' : undefined;
  return {
    name,
    devno: readTrim(join(dir, 'dev')) ?? '',
    removable: readTrim(join(dir, 'removable')) === '1',
    ...(transport ? { transport } : {}),
    size: Number(readTrim(join(dir, 'size')) ?? 0) * 512,
    ...(model ? { model } : {}),
    partitions: parts.map((p) => readTrim(join(dir, p, 'dev')) ?? '').filter(Boolean),
    holders: [...list(join(dir, 'holders')), ...parts.flatMap((p) => list(join(dir, p, 'holders')))],
  };
}

/** What `path` is: missing, a regular file, a block device with its disk, or something else. */
export function readDevice(path: string, s: SysPaths = SYS): DeviceReading {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    return { kind: 'missing', path };
  }
  if (st.isFile()) return { kind: 'file', path, size: Number(st.size) };
  if (!st.isBlockDevice()) return { kind: 'other', path, what: st.isDirectory() ? 'a folder' : st.isCharacterDevice() ? 'a character device' : 'not a block device' };
  return blockReading(path, devnoOf(st.rdev), s);
}

/** The block device `path` of major:minor `devno`, with its disk, as /sys shows them. */
export function blockReading(path: string, devno: string, s: SysPaths = SYS): DeviceReading {
  const self = blockInfo(devno, s);
  if (!self) return { kind: 'other', path, what: 'a block device the kernel does not list in /sys' };
  return { kind: 'block', path, self, disk: diskInfo(self.disk, s) };
}

/** The disks under a block device: itself, a partition's disk, and what a dm/md device is built on, down to the disks. */
function disksUnder(devno: string, s: SysPaths, seen = new Set<string>()): string[] {
  if (seen.has(devno)) return [];
  seen.add(devno);
  const b = blockInfo(devno, s);
  if (!b) return [];
  const diskDir = join(s.sys, 'block', b.disk);
  const diskNo = readTrim(join(diskDir, 'dev'));
  const slaves = list(join(diskDir, 'slaves')).map((n) => readTrim(join(diskDir, 'slaves', n, 'dev'))).filter((x): x is string => !!x);
  return [...(diskNo ? [diskNo] : []), ...slaves.flatMap((n) => disksUnder(n, s, seen))];
}

/** /proc/self/mountinfo: `36 35 98:0 /mnt1 /mnt2 rw … - ext3 /dev/root rw` (major:minor is field 3, the source after ` - type`). */
export function parseMountinfo(text: string): { devno: string; mountPoint: string; source: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      const rest = l.split(' - ')[1]?.split(' ') ?? [];
      return { devno: f[2] ?? '', mountPoint: (f[4] ?? '').replace(/\\040/g, ' '), source: rest[1] ?? '' };
    });
}

/** The machine's disks in use now: under `/`, mounted, swap. */
export function readInUse(s: SysPaths = SYS): InUse {
  const mounts = parseMountinfo(readTrim(join(s.proc, 'self/mountinfo')) ?? '');
  const devOf = (p: string) => {
    try {
      const st = statSync(p, { bigint: true });
      return st.isBlockDevice() ? devnoOf(st.rdev) : undefined;
    } catch {
      return undefined;
    }
  };
  // `/` by its mount's major:minor and by its source device (btrfs, overlay: an anonymous 0:N)
  const root = mounts.filter((m) => m.mountPoint === '/').flatMap((m) => [m.devno, devOf(m.source)]).filter((x): x is string => !!x);
  const swaps = (readTrim(join(s.proc, 'swaps')) ?? '').split('\n').slice(1).map((l) => devOf(l.split(/\s+/)[0] ?? '')).filter((x): x is string => !!x);
  return { rootDisks: [...new Set(root.flatMap((n) => disksUnder(n, s)))], mounted: [...new Set(mounts.map((m) => m.devno))], swaps };
}

/** The device's verdict now, or bad input saying why not. */
export function checkDevice(path: string, imageSize: number, force: boolean, s: SysPaths = SYS): { reading: DeviceReading; size: number; description: string } {
  const reading = readDevice(path, s);
  const v = deviceVerdict(reading, readInUse(s), imageSize, force);
  if (!v.ok) throw new LabgenError(EXIT.badInput, `${v.reason}; nothing was written to it`, v.hint ? { hint: v.hint } : {});
  return { reading, size: v.size, description: v.description };
}

// ---------------------------------------------------------------- write and verify

const CHUNK = 4 << 20;

/** sha256 of the first `length` bytes of `path`, read in chunks. */
async function hashOf(path: string, length: number, onBytes?: OnBytes): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  try {
    for (let at = 0; at < length; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, length - at), at);
      if (bytesRead === 0) throw new Error(`labgen: ${path} ended at byte ${at}, before ${length}`);
      h.update(buf.subarray(0, bytesRead));
      at += bytesRead;
      onBytes?.(at, length);
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/**
 * Write `image` to the device (checked again first: a card may have been mounted meanwhile),
 * then read it back and compare. A block device is opened O_EXCL (the kernel refuses it while
 * mounted) and its cache is dropped before the read-back, so the bytes compared are the card's.
 */
export async function writeDevice(
  runner: Runner,
  image: string,
  device: string,
  force: boolean,
  progress: { writing: OnBytes; verifying: OnBytes },
  s: SysPaths = SYS,
): Promise<void> {
  const size = statSync(image).size;
  const { reading } = checkDevice(device, size, force, s);
  const block = reading.kind === 'block';
  const out = await open(device, constants.O_WRONLY | (block ? constants.O_EXCL : 0));
  const h = createHash('sha256');
  const src = await open(image, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  try {
    for (let at = 0; at < size; ) {
      const { bytesRead } = await src.read(buf, 0, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) throw new Error(`labgen: ${image} ended at byte ${at}, before ${size}`);
      h.update(buf.subarray(0, bytesRead));
      for (let done = 0; done < bytesRead; ) done += (await out.write(buf, done, bytesRead - done, at + done)).bytesWritten;
      at += bytesRead;
      progress.writing(at, size);
    }
    await out.sync();
  } finally {
    await src.close();
    await out.close();
  }
  if (block) await runner.run('verify the card', `blockdev --flushbufs ${device}`, `exec blockdev --flushbufs ${shellQuote(device)}`);
  const back = await hashOf(device, size, progress.verifying);
  if (back !== h.digest('hex'))
    throw new LabgenError(EXIT.failure, `${device}: what was read back differs from the image: the card is faulty or was removed`, { hint: 'try another card or card reader' });
}
