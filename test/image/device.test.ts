import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockReading, type DeviceReading, deviceVerdict, type DiskInfo, type InUse, parseMountinfo, readDevice, readInUse } from '../../drivers/image/device.js';

/**
 * Which devices `labgen image --device` writes: the decision over made-up readings (every
 * refusal, and what --force changes), then the readings themselves taken from a /sys and /proc
 * laid out in a temp folder as the kernel lays them out (stand-in: a folder for /sys and /proc).
 */

const GiB = 1024 ** 3;
const IMAGE = 2 * GiB;

const card = (over: Partial<DiskInfo> = {}): DiskInfo => ({
  name: 'sdb',
  devno: '8:16',
  removable: true,
  transport: 'usb',
  size: 32 * GiB,
  model: 'Generic SD/MMC',
  partitions: ['8:17', '8:18'],
  holders: [],
  ...over,
});

const block = (disk: DiskInfo, self: Partial<{ name: string; devno: string; partition: boolean }> = {}): DeviceReading => ({
  kind: 'block',
  path: `/dev/${self.name ?? disk.name}`,
  self: { name: disk.name, devno: disk.devno, partition: false, disk: disk.name, ...self },
  disk,
});

const idle: InUse = { rootDisks: ['254:0'], mounted: ['254:0', '0:23'], swaps: [] };

describe('deviceVerdict', () => {
  it('writes a removable USB card that nothing uses, and describes it by model, size and bus', () => {
    const v = deviceVerdict(block(card()), idle, IMAGE, false);
    expect(v).toEqual({ ok: true, size: 32 * GiB, description: '/dev/sdb (Generic SD/MMC, 34.4 GB, USB)' });
  });

  it('writes an SD card in a built-in slot (mmc) even when it is not flagged removable', () => {
    expect(deviceVerdict(block(card({ name: 'mmcblk0', devno: '179:0', removable: false, transport: 'mmc' })), idle, IMAGE, false).ok).toBe(true);
  });

  it('refuses the disk that holds /, with or without --force', () => {
    const root = card({ name: 'vda', devno: '254:0', removable: false, transport: undefined, partitions: [] });
    for (const force of [false, true]) {
      const v = deviceVerdict(block(root), { ...idle, mounted: [] }, IMAGE, force);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(/^--device \/dev\/vda is the disk that holds \//);
    }
  });

  it('refuses a card that is mounted, or one of whose partitions is, with or without --force', () => {
    for (const mounted of [['8:16'], ['8:18']])
      for (const force of [false, true]) {
        const v = deviceVerdict(block(card()), { ...idle, mounted: [...idle.mounted, ...mounted] }, IMAGE, force);
        expect(v.ok).toBe(false);
        if (!v.ok) expect(v.reason).toMatch(/is mounted/);
      }
  });

  it('refuses a card with active swap or held by device-mapper', () => {
    const swap = deviceVerdict(block(card()), { ...idle, swaps: ['8:17'] }, IMAGE, true);
    expect(swap.ok || swap.reason).toMatch(/holds active swap/);
    const held = deviceVerdict(block(card({ holders: ['dm-0'] })), idle, IMAGE, true);
    expect(held.ok || held.reason).toMatch(/in use by dm-0/);
  });

  it('refuses a partition, naming the whole disk to write instead', () => {
    const v = deviceVerdict(block(card(), { name: 'sdb1', devno: '8:17', partition: true }), idle, IMAGE, true);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe('--device /dev/sdb1 is a partition of /dev/sdb');
      expect(v.hint).toMatch(/--device \/dev\/sdb$/);
    }
  });

  it('refuses a fixed disk (not removable, not USB or MMC) unless --force', () => {
    const ssd = card({ name: 'nvme1n1', devno: '259:5', removable: false, transport: undefined, model: 'Samsung SSD' });
    const v = deviceVerdict(block(ssd), idle, IMAGE, false);
    expect(v.ok || v.reason).toMatch(/is not a removable disk/);
    expect(deviceVerdict(block(ssd), idle, IMAGE, true).ok).toBe(true);
  });

  it('refuses a card smaller than the image, with or without --force', () => {
    for (const force of [false, true]) expect(deviceVerdict(block(card({ size: GiB })), idle, IMAGE, force).ok).toBe(false);
  });

  it('refuses a regular file unless --force, and one smaller than the image always', () => {
    const file: DeviceReading = { kind: 'file', path: '/tmp/card', size: 4 * GiB };
    const v = deviceVerdict(file, idle, IMAGE, false);
    expect(v.ok || v.reason).toMatch(/is a regular file, not a block device/);
    expect(deviceVerdict(file, idle, IMAGE, true)).toMatchObject({ ok: true, size: 4 * GiB });
    expect(deviceVerdict({ ...file, size: GiB }, idle, IMAGE, true).ok).toBe(false);
  });

  it('refuses what does not exist and what is not a disk, with or without --force', () => {
    expect(deviceVerdict({ kind: 'missing', path: '/dev/sdz' }, idle, IMAGE, true)).toMatchObject({ ok: false, reason: '--device /dev/sdz does not exist' });
    expect(deviceVerdict({ kind: 'other', path: '/dev/null', what: 'a character device' }, idle, IMAGE, true)).toMatchObject({ ok: false });
  });
});

describe('parseMountinfo', () => {
  it('reads major:minor, the mount point (\\040 is a blank) and the source', () => {
    const text = '26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n97 26 8:17 / /media/me/boot\\040fs rw - vfat /dev/sdb1 rw\n';
    expect(parseMountinfo(text)).toEqual([
      { devno: '254:0', mountPoint: '/', source: '/dev/vda' },
      { devno: '8:17', mountPoint: '/media/me/boot fs', source: '/dev/sdb1' },
    ]);
  });
});

describe('readings from /sys and /proc (stand-in: a folder for /sys and /proc)', () => {
  const root = mkdtempSync(join(tmpdir(), 'labgen-sys-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const s = { sys: join(root, 'sys'), proc: join(root, 'proc') };
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${text}\n`);
  };
  /** a disk in /sys/devices/<bus path>/block/<name>, with /sys/block/<name> and /sys/dev/block/<devno> linking to it */
  const disk = (bus: string, name: string, devno: string, attrs: Record<string, string>, parts: Record<string, string> = {}) => {
    const dir = `sys/devices/${bus}/block/${name}`;
    put(`${dir}/dev`, devno);
    for (const [k, v] of Object.entries(attrs)) put(`${dir}/${k}`, v);
    mkdirSync(join(root, dir, 'holders'), { recursive: true });
    mkdirSync(join(root, 'sys/block'), { recursive: true });
    mkdirSync(join(root, 'sys/dev/block'), { recursive: true });
    symlinkSync(join(root, dir), join(root, 'sys/block', name));
    symlinkSync(join(root, dir), join(root, 'sys/dev/block', devno));
    for (const [p, no] of Object.entries(parts)) {
      put(`${dir}/${p}/dev`, no);
      put(`${dir}/${p}/partition`, '1');
      symlinkSync(join(root, dir, p), join(root, 'sys/dev/block', no));
    }
  };
  disk('pci0000:00/0000:00:04.0/virtio1', 'vda', '254:0', { removable: '0', size: '524288000' });
  disk('pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0', 'sdb', '8:16', { removable: '1', size: '62333952', 'device/vendor': 'Generic', 'device/model': 'STORAGE DEVICE' }, { sdb1: '8:17', sdb2: '8:18' });
  put('proc/self/mountinfo', '26 1 254:0 / / rw - ext4 /nonexistent/vda rw\n97 26 8:17 / /media/boot rw - vfat /dev/sdb1 rw');
  put('proc/swaps', 'Filename\tType\tSize\tUsed\tPriority');

  it('a USB disk: its partitions, removable, bus, size and model', () => {
    expect(blockReading('/dev/sdb', '8:16', s)).toEqual({
      kind: 'block',
      path: '/dev/sdb',
      self: { name: 'sdb', devno: '8:16', partition: false, disk: 'sdb' },
      disk: { name: 'sdb', devno: '8:16', removable: true, transport: 'usb', size: 62333952 * 512, model: 'Generic STORAGE DEVICE', partitions: ['8:17', '8:18'], holders: [] },
    });
  });

  it('a partition: named as such, with its disk', () => {
    const r = blockReading('/dev/sdb2', '8:18', s);
    expect(r.kind === 'block' && r.self).toEqual({ name: 'sdb2', devno: '8:18', partition: true, disk: 'sdb' });
  });

  it('what is in use: the disk under /, the mounted devices, no swap', () => {
    expect(readInUse(s)).toEqual({ rootDisks: ['254:0'], mounted: ['254:0', '8:17'], swaps: [] });
  });

  it('so the USB disk is refused while its first partition is mounted', () => {
    const v = deviceVerdict(blockReading('/dev/sdb', '8:16', s), readInUse(s), IMAGE, false);
    expect(v.ok || v.reason).toBe('--device /dev/sdb is mounted (1 of its partitions)');
  });

  it('a path that is not there reads as missing, a regular file as a file with its size', () => {
    expect(readDevice(join(root, 'nothing'), s)).toEqual({ kind: 'missing', path: join(root, 'nothing') });
    const f = join(root, 'card');
    writeFileSync(f, Buffer.alloc(4096));
    expect(readDevice(f, s)).toEqual({ kind: 'file', path: f, size: 4096 });
  });
});
