/**
 * A Raspberry Pi OS image's partitions, from its own MBR (the first 512 bytes): never from
 * assumed offsets, since pi-gen moved the boot partition from sector 8192 to 16384 in 2025.
 * Pure: the bytes come in, the partitions or the reason they are not a Pi OS layout go out.
 */

export const SECTOR = 512;

export interface Partition {
  /** 1-based, as Linux names them (p1, p2) */
  number: number;
  /** MBR type byte: 0x0c FAT32 LBA, 0x83 Linux, … */
  type: number;
  /** first byte, from the start of the image */
  offset: number;
  /** length in bytes */
  size: number;
}

export interface PiLayout {
  /** p1: the FAT boot partition (cmdline.txt, config.txt; cloud-init's files on trixie) */
  boot: Partition;
  /** p2: the ext4 root file system */
  root: Partition;
}

/** FAT32 (CHS, LBA) and FAT16 LBA: what a Pi's firmware reads its boot files from. */
const FAT_TYPES = new Set([0x0b, 0x0c, 0x0e]);
const LINUX = 0x83;
/** the protective MBR of a GPT disk: one partition of this type spans the disk */
const GPT_PROTECTIVE = 0xee;

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

/** The four primary entries that are in use (type ≠ 0). */
export function mbrPartitions(mbr: Buffer): Partition[] {
  const out: Partition[] = [];
  for (let i = 0; i < 4; i++) {
    const e = 446 + 16 * i;
    const type = mbr[e + 4]!;
    const start = mbr.readUInt32LE(e + 8);
    const sectors = mbr.readUInt32LE(e + 12);
    if (type !== 0 && sectors > 0) out.push({ number: i + 1, type, offset: start * SECTOR, size: sectors * SECTOR });
  }
  return out;
}

/**
 * p1 FAT and p2 Linux, both inside the image, as every Raspberry Pi OS image is laid out; any
 * other layout is a message saying what was found (the caller names the file).
 */
export function piLayout(mbr: Buffer, imageSize: number): PiLayout | { problem: string } {
  if (mbr.length < SECTOR || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return { problem: 'has no MBR partition table (not a disk image?)' };
  const parts = mbrPartitions(mbr);
  if (parts.some((p) => p.type === GPT_PROTECTIVE)) return { problem: 'has a GPT partition table; Raspberry Pi OS images have an MBR (DOS) one' };
  const boot = parts.find((p) => p.number === 1);
  const root = parts.find((p) => p.number === 2);
  if (!boot || !root) return { problem: `has ${parts.length} partition(s) (${parts.map((p) => `p${p.number}`).join(', ') || 'none'}); a Raspberry Pi OS image has p1 (boot, FAT) and p2 (root, ext4)` };
  if (!FAT_TYPES.has(boot.type)) return { problem: `p1 has type ${hex(boot.type)}; the boot partition of a Raspberry Pi OS image is FAT (0x0c, 0x0b or 0x0e)` };
  if (root.type !== LINUX) return { problem: `p2 has type ${hex(root.type)}; the root partition of a Raspberry Pi OS image is Linux (0x83)` };
  for (const p of [boot, root])
    if (p.offset + p.size > imageSize)
      return { problem: `p${p.number} ends at byte ${p.offset + p.size}, past the end of the image (${imageSize} bytes): a truncated download?` };
  if (boot.offset < root.offset + root.size && root.offset < boot.offset + boot.size) return { problem: 'p1 and p2 overlap' };
  return { boot, root };
}

/** The ext2/3/4 superblock's magic (0xEF53 at byte 56 of the superblock, 1024 bytes into the partition). */
export const isExtSuperblock = (superblock: Buffer) => superblock.length >= 58 && superblock.readUInt16LE(56) === 0xef53;

/** s_wtime: when the file system was last written (seconds since 1970), the image's own date. */
export const superblockWriteTime = (superblock: Buffer) => superblock.readUInt32LE(0x30);

/** A FAT boot sector ends in 0x55AA and names its type (`FAT32   ` at 82, `FAT16   `/`FAT12   ` at 54). */
export function isFatBootSector(sector: Buffer): boolean {
  if (sector.length < SECTOR || sector[510] !== 0x55 || sector[511] !== 0xaa) return false;
  return /^FAT/.test(sector.toString('latin1', 82, 87)) || /^FAT/.test(sector.toString('latin1', 54, 59));
}
