import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codenameOf } from '../../drivers/image/base.js';
import { commandOutputs, debugfsErrors, parseStat, type StatOf, writeCommands } from '../../drivers/image/ext4.js';
import { loadImageJobs } from '../../drivers/image/jobs.js';
import { piLayout } from '../../drivers/image/mbr.js';
import { hostKeyProblems } from '../../drivers/image/verify.js';
import { sha256 } from '../../generator/common/text.js';
import { EXIT } from '../../generator/errors.js';
import { imagePlan } from '../../generator/plan/image/index.js';
import { REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { assertBuilt, BIN } from '../workflow/support.js';

/**
 * `labgen image`: first its pure pieces on made-up bytes; then the built CLI on small Raspberry
 * Pi OS stand-ins (stand-in: images made by make-base.sh for the 2 GiB downloads, with the same
 * layout: MBR, FAT32 boot, ext4 root with the release's os-release), whose results are read by
 * the programs that read real ones: sfdisk, fsck.vfat, e2fsck, mtools, debugfs, ssh-keygen, cmp.
 */

// ---------------------------------------------------------------- pure pieces

/** An MBR with `entries` (type, first sector, sectors) and the 0x55AA signature. */
function mbr(entries: [number, number, number][], signature = true): Buffer {
  const b = Buffer.alloc(512);
  entries.forEach(([type, start, sectors], i) => {
    const e = 446 + 16 * i;
    b[e + 4] = type;
    b.writeUInt32LE(start, e + 8);
    b.writeUInt32LE(sectors, e + 12);
  });
  if (signature) b.writeUInt16LE(0xaa55, 510);
  return b;
}

describe("piLayout: the partitions from the image's own MBR", () => {
  const size = 200 * 2048 * 512;
  it('reads p1 and p2 wherever they start (16384 since 2025, 8192 before)', () => {
    for (const start of [8192, 16384]) {
      const l = piLayout(mbr([[0x0c, start, 81920], [0x83, start + 81920, 100000]]), size);
      expect(l).toEqual({ boot: { number: 1, type: 0x0c, offset: start * 512, size: 81920 * 512 }, root: { number: 2, type: 0x83, offset: (start + 81920) * 512, size: 100000 * 512 } });
    }
  });
  it('refuses no table, GPT, wrong types, a missing p2, a partition past the end', () => {
    const problem = (b: Buffer) => (piLayout(b, size) as { problem?: string }).problem;
    expect(problem(mbr([], false))).toMatch(/no MBR partition table/);
    expect(problem(mbr([[0xee, 1, 409599]]))).toMatch(/GPT/);
    expect(problem(mbr([[0x83, 8192, 81920], [0x83, 90112, 1000]]))).toMatch(/p1 has type 0x83/);
    expect(problem(mbr([[0x0c, 8192, 81920], [0x07, 90112, 1000]]))).toMatch(/p2 has type 0x07/);
    expect(problem(mbr([[0x0c, 8192, 81920]]))).toMatch(/has 1 partition\(s\) \(p1\)/);
    expect(problem(mbr([[0x0c, 8192, 81920], [0x83, 90112, 400000]]))).toMatch(/past the end of the image/);
  });
});

describe('debugfs: its commands, output and errors', () => {
  const dir = { type: 'directory' as const, mode: 0o755, uid: 0, gid: 0 };
  it('writeCommands: missing folders made (root, 0755) outermost first; an existing file removed before it is written (write onto it leaks an inode)', () => {
    const existing = new Map<string, StatOf>([['/etc', dir], ['/etc/ssh', dir], ['/etc/ssh/ssh_host_ed25519_key', { ...dir, type: 'regular' as const, mode: 0o600 }]]);
    const files = [
      { path: '/etc/ssh/ssh_host_ed25519_key', contents: Buffer.from('k'), mode: 0o600, uid: 0, gid: 0 },
      { path: '/etc/labgen/a/b', contents: Buffer.from('x'), mode: 0o644, uid: 1000, gid: 1000 },
    ];
    const sif = (p: string, mode: string, uid = 0) => [`sif ${p} mode ${mode}`, `sif ${p} uid ${uid}`, `sif ${p} gid ${uid}`];
    expect(writeCommands(files, existing, (i) => `f${i}`, 1700000000)).toEqual([
      'set_current_time @1700000000',
      'rm /etc/ssh/ssh_host_ed25519_key',
      'write f0 /etc/ssh/ssh_host_ed25519_key',
      ...sif('/etc/ssh/ssh_host_ed25519_key', '0100600'),
      'mkdir /etc/labgen',
      ...sif('/etc/labgen', '040755'),
      'mkdir /etc/labgen/a',
      ...sif('/etc/labgen/a', '040755'),
      'write f1 /etc/labgen/a/b',
      ...sif('/etc/labgen/a/b', '0100644', 1000),
    ]);
  });
  it('writeCommands refuses to write over a folder or below a symbolic link', () => {
    const file = { path: '/bin/x', contents: Buffer.from(''), mode: 0o755, uid: 0, gid: 0 };
    expect(() => writeCommands([file], new Map([['/bin', { ...dir, type: 'symlink' as const }]]), (i) => `f${i}`, 0)).toThrow(/\/bin there is a symbolic link/);
    expect(() => writeCommands([file], new Map([['/bin/x', dir]]), (i) => `f${i}`, 0)).toThrow(/it is a folder there/);
  });
  it('debugfsErrors: everything on stderr but the banner (debugfs exits 0 when a command fails)', () => {
    expect(debugfsErrors('debugfs 1.47.0 (5-Feb-2023)\n')).toEqual([]);
    expect(debugfsErrors('debugfs 1.47.0 (5-Feb-2023)\nwrite: Could not allocate block in ext2 filesystem \n')).toEqual(['write: Could not allocate block in ext2 filesystem']);
  });
  it('commandOutputs and parseStat read `debugfs -f` output', () => {
    const out = commandOutputs(
      'debugfs: stat /etc/x\nInode: 22   Type: regular    Mode:  0600   Flags: 0x80000\nGeneration: 0    Version: 0x00000000:00000000\nUser:  1000   Group:  1001   Project:     0   Size: 7\ndebugfs: stat /nope\n',
    );
    expect(out.map((o) => o.command)).toEqual(['stat /etc/x', 'stat /nope']);
    expect(parseStat(out[0]!.output)).toEqual({ type: 'regular', mode: 0o600, uid: 1000, gid: 1001 });
    expect(parseStat(out[1]!.output)).toBeUndefined();
  });
});

describe('codenameOf: the release from os-release', () => {
  it('reads VERSION_CODENAME, quoted or not', () => {
    expect(codenameOf('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')).toBe('bookworm');
    expect(codenameOf('VERSION_CODENAME="trixie"\n')).toBe('trixie');
    expect(codenameOf('ID=debian\n')).toBeUndefined();
  });
});

describe('hostKeyProblems: the image carries the pinned host key', () => {
  const ssh2 = () => (createRequire(import.meta.url)('ssh2') as typeof import('ssh2')).utils;
  const pair = (c: string) => {
    const k = ssh2().generateKeyPairSync('ed25519', { comment: c });
    return { private: k.private, public: `${k.public.trim()}\n` };
  };
  const hostKey = pair('root@pi');
  const other = pair('root@other');
  const blob = (pub: string) => Buffer.from(pub.split(' ')[1]!, 'base64');
  const pinned = (b: Buffer) => b.equals(blob(hostKey.public));
  const file = (where: string, planned: string, back = planned) => ({ where, planned: Buffer.from(planned), back: Buffer.from(back) });

  it('accepts the key alone and indented inside another file (YAML), public half too', () => {
    const yaml = `ssh_keys:\n  ed25519_private: |\n${hostKey.private.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
    expect(hostKeyProblems([file('/etc/ssh/k', hostKey.private), file('/etc/ssh/k.pub', hostKey.public), file('boot:user-data', yaml)], hostKey, pinned)).toEqual([]);
  });
  it('names a file whose key, read back, is another one; and a plan without the private key', () => {
    expect(hostKeyProblems([file('/etc/ssh/k', hostKey.private, other.private)], hostKey, pinned)).toEqual(['/etc/ssh/k: its SSH host key is not the one pinned in .labgen/known_hosts']);
    expect(hostKeyProblems([file('/etc/ssh/k.pub', hostKey.public)], hostKey, pinned)[0]).toMatch(/no file of the image holds its SSH host key/);
  });
});

// ---------------------------------------------------------------- the CLI on stand-in images

/** Waits (generously: the machine may be loaded) until `ok()`, or fails naming `what`. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const MAKE_BASE = join(REPO_ROOT, 'test/image/make-base.sh');
const NEEDS = ['sfdisk', 'mkfs.vfat', 'mke2fs', 'mcopy', 'mtype', 'mdir', 'mmd', 'debugfs', 'e2fsck', 'fsck.vfat', 'xz', 'ssh-keygen', 'cmp', 'truncate', 'tmux', 'findmnt', 'lsblk'];
const RELEASES = [
  { release: 'bullseye', p1: 8192 },
  { release: 'bookworm', p1: 16384 },
  { release: 'trixie', p1: 16384 },
] as const;

describeE2e('labgen image on Raspberry Pi OS stand-ins (stand-in: small images made by make-base.sh for the downloads)', { commands: NEEDS }, () => {
  const work = mkdtempSync(join(tmpdir(), 'labgen-image-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let n = 0;
  const fresh = (name: string) => {
    const d = join(work, `${name}-${n++}`);
    mkdirSync(d);
    return d;
  };

  /** the built labgen, with its own TMPDIR (checked empty afterwards: nothing left there either) */
  function labgen(args: string[], env: Record<string, string> = {}) {
    const tmp = fresh('tmp');
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', TMPDIR: tmp, ...env } });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, leftInTmp: readdirSync(tmp) };
  }

  const bases = new Map<string, string>();
  /** a stand-in base image (made once per name) */
  function base(name: string, release: string, ...args: string[]): string {
    const key = `${name}`;
    if (!bases.has(key)) {
      const file = join(work, name);
      execFileSync(MAKE_BASE, [file, release, ...args]);
      bases.set(key, file);
    }
    return bases.get(key)!;
  }

  /** a generated copy of labs/minimal (pi-a, pi-b; `morePis`: lines added to pis.nodes) on `release` */
  function lab(release: string, morePis = ''): string {
    const dir = fresh(`lab-${release}`);
    const minimal = readFileSync(join(REPO_ROOT, 'labs/minimal/lab.yaml'), 'utf8').replace('os: bullseye', `os: ${release}`);
    const text = morePis ? minimal.replace(/^( {4}- \{ name: pi-b, .*\n)/m, `$1${morePis}\n`) : minimal;
    writeFileSync(join(dir, 'lab.yaml'), text);
    const r = spawnSync(process.execPath, [BIN, 'generate', '--lab', join(dir, 'lab.yaml')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(EXIT.ok);
    return join(dir, 'lab.yaml');
  }

  /** `sfdisk --json`: where the image's partitions start, in bytes */
  function partitions(img: string): { boot: number; root: number; bootSectors: number } {
    const t = JSON.parse(execFileSync('sfdisk', ['--json', img], { encoding: 'utf8' })) as { partitiontable: { partitions: { start: number; size: number }[] } };
    const [p1, p2] = t.partitiontable.partitions;
    return { boot: p1!.start * 512, root: p2!.start * 512, bootSectors: p1!.size };
  }
  const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  const bootFile = (img: string, path: string) => execFileSync('mtype', ['-i', `${img}@@${partitions(img).boot}`, `::/${path}`], { env: mtools });
  const debugfs = (img: string, request: string) => execFileSync('debugfs', ['-R', request, `${img}?offset=${partitions(img).root}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  /** a root file system file's bytes, through debugfs dump to a private temp file */
  function rootFile(img: string, path: string): Buffer {
    const out = join(fresh('dump'), 'file');
    debugfs(img, `dump ${path} ${out}`);
    return readFileSync(out);
  }

  beforeAll(() => assertBuilt());

  for (const { release, p1 } of RELEASES) {
    describe(`${release} (p1 at sector ${p1})`, () => {
      let labFile: string;
      let baseImg: string;
      let before: string;
      let run: ReturnType<typeof labgen>;
      let images: string;
      beforeAll(() => {
        baseImg = base(`${release}.img`, release, '--p1', String(p1));
        before = sha256(readFileSync(baseImg));
        labFile = lab(release);
        images = join(labFile, '..', 'images');
        run = labgen(['image', '--base', baseImg, '--lab', labFile]);
      }, 120_000);

      it('exits 0 with one line per Pi: its image, release and size; images 0600 in images/ with a .gitignore of everything; no temp file anywhere', () => {
        expect(run.code, run.stderr).toBe(EXIT.ok);
        for (const node of ['pi-a', 'pi-b']) {
          expect(run.stdout).toContain(`${node}: ${join(images, `${node}.img`)} (${release}, 96 MiB, `);
          expect(statSync(join(images, `${node}.img`)).mode & 0o777).toBe(0o600);
        }
        expect(readdirSync(images).sort()).toEqual(['.gitignore', 'pi-a.img', 'pi-b.img']);
        expect(readFileSync(join(images, '.gitignore'), 'utf8').split('\n')).toContain('*');
        expect(statSync(images).mode & 0o777).toBe(0o700);
        expect(run.leftInTmp).toEqual([]);
      });

      it('leaves the base as it was (sha256)', () => {
        expect(sha256(readFileSync(baseImg))).toBe(before);
      });

      it('keeps both file systems clean: fsck.vfat -n on p1, e2fsck -fn on p2', () => {
        for (const node of ['pi-a', 'pi-b']) {
          const img = join(images, `${node}.img`);
          const parts = partitions(img);
          expect(parts.boot).toBe(p1 * 512);
          const p1File = join(fresh('p1'), 'p1.img');
          execFileSync('dd', [`if=${img}`, `of=${p1File}`, 'bs=512', `skip=${p1}`, `count=${parts.bootSectors}`, 'status=none']);
          const fat = spawnSync('fsck.vfat', ['-n', p1File], { encoding: 'utf8' });
          expect(fat.status, fat.stdout + fat.stderr).toBe(0);
          const ext = spawnSync('e2fsck', ['-fn', `${img}?offset=${parts.root}`], { encoding: 'utf8' });
          expect(ext.status, ext.stdout + ext.stderr).toBe(0);
        }
      });

      it('cmdline.txt is one line with cgroup_enable=memory once, and everything the base had on it', () => {
        const baseLine = bootFile(baseImg, 'cmdline.txt').toString().trim();
        for (const node of ['pi-a', 'pi-b']) {
          const text = bootFile(join(images, `${node}.img`), 'cmdline.txt').toString();
          expect(text.split('\n').filter(Boolean)).toHaveLength(1);
          const words = text.trim().split(' ');
          expect(words.filter((w) => w === 'cgroup_enable=memory')).toHaveLength(1);
          expect(words).toEqual(expect.arrayContaining(baseLine.split(' ')));
        }
      });

      it("the image's SSH host key is the one pinned in .labgen/known_hosts (ssh-keygen -y of the key read back, ssh-keygen -F of the pin)", () => {
        const knownHosts = join(labFile, '..', '.labgen/known_hosts');
        for (const node of ['pi-a', 'pi-b']) {
          const key = join(fresh('key'), 'key');
          writeFileSync(key, rootFile(join(images, `${node}.img`), '/etc/ssh/ssh_host_ed25519_key'), { mode: 0o600 });
          const derived = execFileSync('ssh-keygen', ['-y', '-f', key], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ');
          const pin = execFileSync('ssh-keygen', ['-F', node, '-f', knownHosts], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith(`${node},`))!;
          expect(pin.split(' ').slice(1, 3).join(' ')).toBe(derived);
        }
      });

      it('holds every planned file: boot files (mtype) and root files with their content, mode and owner (debugfs stat)', () => {
        const { jobs } = loadImageJobs({ lab: labFile }, []);
        for (const job of jobs) {
          const img = join(images, `${job.node}.img`);
          const plan = imagePlan(job.facts, job.identity, job.files);
          for (const f of plan.boot) expect([f.path, bootFile(img, f.path).toString()]).toEqual([f.path, f.contents]);
          for (const f of plan.rootfs) {
            const st = parseStat(debugfs(img, `stat ${f.path}`).toString().split('\n'));
            expect([f.path, st]).toEqual([f.path, { type: 'regular', mode: f.mode, uid: f.uid ?? 0, gid: f.gid ?? 0 }]);
            expect([f.path, rootFile(img, f.path).toString()]).toEqual([f.path, f.contents]);
          }
        }
      });

      it('makes byte-identical images when run again (cmp), the temp files of a killed run removed', () => {
        const out = fresh('again');
        writeFileSync(join(out, '.pi-a.img.labgen-tmp-999999999'), 'left by a killed run');
        const again = labgen(['image', '--base', baseImg, '--lab', labFile, '--out', out]);
        expect(again.code, again.stderr).toBe(EXIT.ok);
        for (const node of ['pi-a', 'pi-b']) execFileSync('cmp', [join(images, `${node}.img`), join(out, `${node}.img`)]);
        expect(readdirSync(out).sort()).toEqual(['pi-a.img', 'pi-b.img']);
      });
    });
  }

  describe('an .img.xz base', () => {
    it('makes the same bytes as the .img, decompressed sparse (st_blocks far below the size), the base untouched', () => {
      const img = base('bookworm.img', 'bookworm');
      const xz = join(fresh('xz'), 'bookworm.img.xz');
      execFileSync('sh', ['-c', `xz -1 -T0 -c '${img}' > '${xz}'`]);
      const before = sha256(readFileSync(xz));
      const labFile = lab('bookworm');
      const fromImg = fresh('from-img');
      const fromXz = fresh('from-xz');
      expect(labgen(['image', 'pi-b', '--base', img, '--lab', labFile, '--out', fromImg]).code).toBe(EXIT.ok);
      const r = labgen(['image', 'pi-b', '--base', xz, '--lab', labFile, '--out', fromXz]);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      execFileSync('cmp', [join(fromImg, 'pi-b.img'), join(fromXz, 'pi-b.img')]);
      const st = statSync(join(fromXz, 'pi-b.img'));
      expect(st.blocks * 512).toBeLessThan(st.size / 8);
      expect(readdirSync(fromXz)).toEqual(['pi-b.img']);
      expect(sha256(readFileSync(xz))).toBe(before);
      expect(r.leftInTmp).toEqual([]);
    });

    it('three Pis from one .img.xz (copies of the decompressed base two at a time, the last Pi given the base itself): each the same bytes as from the .img', () => {
      const img = base('bookworm.img', 'bookworm');
      const xz = join(fresh('xz3'), 'bookworm.img.xz');
      execFileSync('sh', ['-c', `xz -1 -T0 -c '${img}' > '${xz}'`]);
      const labFile = lab('bookworm', '    - { name: pi-c, ip: 192.168.50.23, roles: [] }');
      const fromImg = fresh('from-img3');
      const fromXz = fresh('from-xz3');
      expect(labgen(['image', '--base', img, '--lab', labFile, '--out', fromImg]).code).toBe(EXIT.ok);
      const r = labgen(['image', '--base', xz, '--lab', labFile, '--out', fromXz]);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      expect(readdirSync(fromXz).sort()).toEqual(['pi-a.img', 'pi-b.img', 'pi-c.img']);
      for (const pi of ['pi-a', 'pi-b', 'pi-c']) execFileSync('cmp', [join(fromImg, `${pi}.img`), join(fromXz, `${pi}.img`)]);
      expect(r.leftInTmp).toEqual([]);
    });
  });

  describe('bad input: exit 2 naming the file or field, nothing left behind', () => {
    let labFile: string;
    beforeAll(() => {
      labFile = lab('bookworm');
    });

    /** labgen image into a new --out folder, which must not be made */
    function refused(args: string[], message: RegExp, env: Record<string, string> = {}, code: number = EXIT.badInput) {
      const out = join(fresh('refused'), 'images');
      const r = labgen(['image', ...args, '--lab', labFile, '--out', out], env);
      expect(r.code, r.stdout + r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(existsSync(out)).toBe(false);
      expect(r.leftInTmp).toEqual([]);
      return r;
    }

    it('a base that does not exist', () => {
      refused(['--base', join(work, 'nope.img')], /--base \S+nope\.img does not exist/);
    });

    it('a text file as the base', () => {
      const text = join(fresh('text'), 'notes.img');
      writeFileSync(text, 'not an image\n'.repeat(100));
      refused(['--base', text], /--base \S+notes\.img has no MBR partition table/);
    });

    it('an image with a GPT table, and one with no table at all', () => {
      const gpt = join(fresh('gpt'), 'gpt.img');
      execFileSync('truncate', ['-s', '64M', gpt]);
      execFileSync('sfdisk', ['-q', gpt], { input: 'label: gpt\nsize=32M, type=linux\n' });
      refused(['--base', gpt], /has a GPT partition table/);
      const zeros = join(fresh('zeros'), 'zeros.img');
      execFileSync('truncate', ['-s', '64M', zeros]);
      refused(['--base', zeros], /has no MBR partition table/);
    });

    it('a gzip-compressed base, and a damaged .img.xz', () => {
      const gz = join(fresh('gz'), 'os.img.gz');
      writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
      refused(['--base', gz], /is gzip-compressed/);
      const xz = join(fresh('badxz'), 'os.img.xz');
      const good = execFileSync('xz', ['-1', '-c', base('bookworm.img', 'bookworm')], { maxBuffer: 1 << 30 });
      writeFileSync(xz, good.subarray(0, Math.floor(good.length / 2)));
      refused(['--base', xz], /--base \S+os\.img\.xz is not a readable \.xz file|cannot be decompressed/);
      // damaged inside, its index whole (xz --list reads it): found only as it is decompressed, still the download's
      const damaged = join(fresh('damagedxz'), 'os.img.xz');
      const bytes = Buffer.from(good);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      writeFileSync(damaged, bytes);
      refused(['--base', damaged], /--base \S+os\.img\.xz cannot be decompressed: xz: .*(corrupt|Unexpected)/);
    });

    it("a base of another release than lab.yaml's, naming the Pi and the field", () => {
      refused(['--base', base('bullseye.img', 'bullseye', '--p1', '8192')], /is Raspberry Pi OS bullseye, but lab.yaml asks for another release:\n {2}pi-a: pis\.os is bookworm\n {2}pi-b: pis\.os is bookworm/);
    });

    it('a trixie base without cloud-init (the first boot could not start)', () => {
      const trixieLab = lab('trixie');
      const out = join(fresh('refused'), 'images');
      const r = labgen(['image', '--base', base('trixie-bare.img', 'trixie', '--no-cloud-init'), '--lab', trixieLab, '--out', out]);
      expect(r.code, r.stderr).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/lacks what the Pi's first boot needs:\n {2}\/usr\/bin\/cloud-init: /);
      expect(existsSync(out)).toBe(false);
    });

    it('a base that is one of the images the run makes', () => {
      const out = fresh('overwrite');
      const own = join(out, 'pi-a.img');
      copyFileSync(base('bookworm.img', 'bookworm'), own);
      const before = sha256(readFileSync(own));
      const r = labgen(['image', 'pi-a', '--base', own, '--lab', labFile, '--out', out]);
      expect(r.code).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/is one of the images this run makes/);
      expect(sha256(readFileSync(own))).toBe(before);
      expect(readdirSync(out)).toEqual(['pi-a.img']);
    });

    it('a node that is not a Pi of the lab', () => {
      refused(['pi-z', '--base', base('bookworm.img', 'bookworm')], /not a Pi of this lab: pi-z/);
    });

    it('a lab folder out of date with lab.yaml (exit 1, as push)', () => {
      const stale = lab('bookworm');
      writeFileSync(stale, readFileSync(stale, 'utf8').replace('ip: 192.168.50.22', 'ip: 192.168.50.23'));
      const out = join(fresh('refused'), 'images');
      const r = labgen(['image', '--base', base('bookworm.img', 'bookworm'), '--lab', stale, '--out', out]);
      expect(r.code).toBe(EXIT.failure); // as push: the folder is behind lab.yaml
      expect(r.stderr).toMatch(/the lab folder is out of date with lab.yaml; no image was made/);
      expect(r.stderr).toMatch(/run `labgen generate` first/);
      expect(existsSync(out)).toBe(false);
    });

    it('mtools missing: exit 1 naming the Debian package, nothing made', () => {
      const bin = fresh('bin');
      for (const tool of ['sh', 'cp', 'debugfs', 'xz']) {
        const path = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
        symlinkSync(path, join(bin, tool));
      }
      const r = refused(['--base', base('bookworm.img', 'bookworm')], /labgen image needs mcopy, mdir, mmd, which are not installed/, { PATH: bin }, EXIT.failure);
      expect(r.stderr).toMatch(/apt-get install mtools/);
    });
  });

  describe('a run stopped by SIGTERM (stand-in: a cp or xz that never finishes, so the signal comes mid-copy)', () => {
    /**
     * labgen image with `program` replaced by one that records its pid and sleeps; SIGTERM once
     * `running` of them run (the lab's two Pis are copied at once where there are two CPUs)
     */
    async function stopped(program: 'cp' | 'xz', baseFile: string, temp: RegExp, running: number) {
      const labFile = lab('bookworm');
      const bin = fresh('slow-bin');
      const started = join(bin, 'started');
      const real = execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
      // xz --robot --list (the size, read first) is the real one's; the cp makes its target, as the real one does first
      const makeTarget = program === 'cp' ? 'for a; do last=$a; done; : > "$last"\n' : '';
      writeFileSync(join(bin, program), `#!/bin/sh\n[ "$1" = --robot ] && exec '${real}' "$@"\n${makeTarget}echo $$ >> '${started}'\nexec sleep 600\n`, { mode: 0o755 });
      const out = join(fresh('stopped'), 'images');
      const tmp = fresh('tmp');
      const child = spawn(process.execPath, [BIN, 'image', '--base', baseFile, '--lab', labFile, '--out', out], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: tmp },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const pids = () => (existsSync(started) ? readFileSync(started, 'utf8').split('\n').filter(Boolean).map(Number) : []);
      try {
        await until(() => pids().length === running, `${running} ${program} to start`);
        const targets = readdirSync(out).filter((f) => temp.test(f));
        expect(targets).toHaveLength(running); // the copies' targets, 0600 from the start (they run under umask 077)
        for (const t of targets) expect(statSync(join(out, t)).mode & 0o777).toBe(0o600);
        child.kill('SIGTERM');
        expect(await exited).toBe(143);
      } finally {
        child.kill('SIGKILL');
      }
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
      for (const pid of pids()) await until(() => !alive(pid), `the ${program} (pid ${pid}) to end`);
    }

    it('mid-copy of an .img: removes its temp files and the output folder it made, ends the copies, exits 143', async () => {
      // two Pis: both copied at once, where there are two CPUs
      await stopped('cp', base('bookworm.img', 'bookworm'), /^\.pi-[ab]\.img\.labgen-tmp-\d+$/, Math.min(2, availableParallelism()));
    });

    it('mid-decompression of an .img.xz: the same, xz ended too', async () => {
      const xz = join(fresh('xz'), 'bookworm.img.xz');
      execFileSync('sh', ['-c', `xz -1 -c '${base('bookworm.img', 'bookworm')}' > '${xz}'`]);
      await stopped('xz', xz, /^\.bookworm\.img\.labgen-new-\d+$/, 1);
    });
  });

  describe('a failure while the next Pi is copied: the images finished before it kept, nothing else left', () => {
    /** a folder for PATH with `program` replaced by `script` (sh), which finds the real one as $REAL */
    function standIn(bin: string, program: string, script: string): void {
      const real = execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
      writeFileSync(join(bin, program), `#!/bin/sh\nREAL='${real}'\n${script}`, { mode: 0o755 });
    }
    /** (sh) is the copy's target pi-b's temp image? (copies may run two at once: which runs first is not known) */
    const TARGET_IS_PI_B = `for a; do last=$a; done\ncase "$last" in */.pi-b.img.labgen-tmp-*) true ;; *) false ;; esac`;
    function run(bin: string) {
      const labFile = lab('bookworm');
      const out = join(fresh('failed'), 'images');
      return { out, ...labgen(['image', '--base', base('bookworm.img', 'bookworm'), '--lab', labFile, '--out', out], { PATH: `${bin}:${process.env.PATH}` }) };
    }

    it("the second Pi's copy fails (stand-in: a cp that fails for pi-b): exit 1 naming the copy; pi-a's image kept, no temp file", () => {
      const bin = fresh('failing-cp');
      standIn(bin, 'cp', `${TARGET_IS_PI_B} && { echo 'cp: stand-in failure' >&2; exit 1; }\nexec "$REAL" "$@"\n`);
      const r = run(bin);
      expect(r.code, r.stderr).toBe(EXIT.failure);
      expect(r.stderr).toMatch(/copy the base image/);
      expect(r.stderr).toMatch(/stand-in failure/);
      expect(readdirSync(r.out).sort()).toEqual(['.gitignore', 'pi-a.img']);
      expect(r.leftInTmp).toEqual([]);
    });

    it("the first Pi's root file system cannot be written while the second is copied (stand-in: debugfs -w fails, the second cp never ends): exit 1, that cp ended, the output folder it made gone", async () => {
      const bin = fresh('failing-debugfs');
      standIn(bin, 'cp', `${TARGET_IS_PI_B} || exec "$REAL" "$@"\necho $$ > '${bin}/sleeping'\nexec sleep 600\n`);
      // the write fails once the second cp is under way (waiting for it a minute at most)
      const failOnceCopying = `i=0; while [ ! -s '${bin}/sleeping' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done; echo 'debugfs: stand-in: write failed' >&2; exit 1`;
      standIn(bin, 'debugfs', `case " $* " in *' -w '*) ${failOnceCopying} ;; esac\nexec "$REAL" "$@"\n`);
      const r = run(bin);
      expect(r.code, r.stderr).toBe(EXIT.failure);
      expect(r.stderr).toMatch(/write the root file system/);
      expect(existsSync(r.out)).toBe(false);
      expect(r.leftInTmp).toEqual([]);
      const pid = Number(readFileSync(join(bin, 'sleeping'), 'utf8'));
      await until(() => !alive(pid), 'the second cp to end');
    });
  });

  describe('--device (stand-in: a file for the card)', () => {
    let labFile: string;
    let img: string;
    beforeAll(() => {
      labFile = lab('bookworm');
      img = base('bookworm.img', 'bookworm');
    });
    /** a 128 MiB "card" full of 0xAA, as a used card is full of old data */
    function card(): string {
      const file = join(fresh('card'), 'card');
      writeFileSync(file, Buffer.alloc(128 << 20, 0xaa));
      return file;
    }

    it('refuses a regular file without --force: exit 2, the card untouched, no image made', () => {
      const c = card();
      const before = sha256(readFileSync(c));
      const out = join(fresh('dev'), 'images');
      const r = labgen(['image', 'pi-a', '--base', img, '--lab', labFile, '--out', out, '--device', c, '--yes']);
      expect(r.code).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/--device \S+card is a regular file, not a block device; nothing was written to it/);
      expect(sha256(readFileSync(c))).toBe(before);
      expect(existsSync(out)).toBe(false);
    });

    it('without a terminal, asks for --yes before writing (exit 2, untouched)', () => {
      const c = card();
      const before = sha256(readFileSync(c));
      const r = labgen(['image', 'pi-a', '--base', img, '--lab', labFile, '--out', join(fresh('dev'), 'images'), '--device', c, '--force']);
      expect(r.code).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/without a terminal to ask on, --yes says so/);
      expect(sha256(readFileSync(c))).toBe(before);
    });

    it('refuses two Pis for one card', () => {
      const r = labgen(['image', 'pi-a', 'pi-b', '--base', img, '--lab', labFile, '--out', join(fresh('dev'), 'images'), '--device', card(), '--force', '--yes']);
      expect(r.code).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/--device writes one image: name one Pi/);
    });

    it('with --force --yes, writes the image to the card and reads it back: the card starts with the image, byte for byte', () => {
      const c = card();
      const out = join(fresh('dev'), 'images');
      const r = labgen(['image', 'pi-a', '--base', img, '--lab', labFile, '--out', out, '--device', c, '--force', '--yes']);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      expect(r.stdout).toContain(`pi-a: written to ${c} and read back: identical`);
      const size = statSync(join(out, 'pi-a.img')).size;
      execFileSync('cmp', ['-n', String(size), join(out, 'pi-a.img'), c]);
      // past the image, the card is as it was
      expect(readFileSync(c).subarray(size).every((b) => b === 0xaa)).toBe(true);
    });

    /** `labgen image … --device CARD --force` on a real terminal (tmux, a private server on its own socket, killed afterwards), answered with `key` */
    async function onTerminal(c: string, key: 'y' | 'n') {
      const box = fresh('tty');
      const server = join(box, 'tmux.sock');
      const exitFile = join(box, 'exit-code');
      const out = join(box, 'images');
      const shell = `'${process.execPath}' '${BIN}' image pi-a --base '${img}' --lab '${labFile}' --out '${out}' --device '${c}' --force; echo $? > '${exitFile}'; sleep 600`;
      const tmux = (...args: string[]) => execFileSync('tmux', ['-S', server, ...args], { encoding: 'utf8' });
      tmux('-f', '/dev/null', 'new-session', '-d', '-x', '200', '-y', '50', 'sh', '-c', shell);
      try {
        await until(() => /Write pi-a's image \(96 MiB\) to \S+card \(a regular file, 0\.1 GB\)\? Everything on it is lost/.test(tmux('capture-pane', '-p', '-J')), 'the question');
        tmux('send-keys', key, 'Enter');
        await until(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '', 'labgen to end');
        return { code: Number(readFileSync(exitFile, 'utf8')), screen: tmux('capture-pane', '-p', '-J', '-S', '-200'), out };
      } finally {
        spawnSync('tmux', ['-S', server, 'kill-server'], { stdio: 'ignore' });
      }
    }

    it('on a terminal, asks naming the card and its size: no leaves it untouched (exit 1), yes writes it', async () => {
      const c = card();
      const before = sha256(readFileSync(c));
      const no = await onTerminal(c, 'n');
      expect(no.code, no.screen).toBe(EXIT.failure);
      expect(no.screen).toMatch(/not written: nothing was made/);
      expect(sha256(readFileSync(c))).toBe(before);
      expect(existsSync(no.out)).toBe(false);
      const yes = await onTerminal(c, 'y');
      expect(yes.code, yes.screen).toBe(EXIT.ok);
      execFileSync('cmp', ['-n', String(statSync(join(yes.out, 'pi-a.img')).size), join(yes.out, 'pi-a.img'), c]);
    }, 120_000);

    const rootSource = spawnSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).stdout?.trim() ?? '';
    const rootDisk = rootSource.startsWith('/dev/') ? spawnSync('lsblk', ['-n', '-d', '-o', 'PKNAME', rootSource], { encoding: 'utf8' }).stdout?.trim() || rootSource.slice(5) : '';
    it.skipIf(!rootDisk || !existsSync(`/dev/${rootDisk}`))(`refuses the disk that holds / (here /dev/${rootDisk || '?'}), even with --force --yes`, () => {
      const r = labgen(['image', 'pi-a', '--base', img, '--lab', labFile, '--out', join(fresh('dev'), 'images'), '--device', `/dev/${rootDisk}`, '--force', '--yes']);
      expect(r.code).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/is the disk that holds \/ \(the running system\): never written/);
    });
  });
});
