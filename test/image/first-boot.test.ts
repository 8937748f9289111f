/**
 * The image's first boot (generator/plan/image/, issue #12): what goes into a Pi's image per
 * release, each file read by the program that reads it on the Pi:
 *
 * - unit: which files, modes, owners, secrets; the kernel command line (words once, idempotent,
 *   one line, its line ending kept); the same inputs give the same bytes;
 * - firstrun.sh: `bash -n` and shellcheck for every release;
 * - its cmdline.txt clean-up: the script's own sed, run for real on the command line the plan made;
 * - cloud-init (trixie): `cloud-init schema` on user-data; cloud-init's NoCloud datasource reads
 *   the seed (user-data, meta-data, network-config) from a seed folder;
 * - sudoers: `visudo -c`; the systemd drop-in: `systemd-analyze verify`, its condition evaluated
 *   by `systemd-analyze condition`;
 * - for real on test hosts (a network namespace with its own root and a real sshd, see
 *   test/support/test-hosts.ts): the image's rootfs files placed as `labgen image` places them
 *   (on bullseye and bookworm with the host keys Raspberry Pi OS's first boot makes instead of
 *   labgen's), the boot partition at its mount point, then the release's first boot: the script
 *   run as systemd.run runs it, or as user-data's runcmd says. Then sshd (sent SIGHUP, as a
 *   reboot would restart it) must present the pinned host key to an ssh client that accepts no
 *   other, the lab user must log in with the lab key and with the other authorized key, and
 *   `sudo -n` must work. No systemd runs as PID 1 on a test host: systemctl is a stand-in that
 *   records its calls (the test names say so).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../generator/common/quote.js';
import { CGROUP_MEMORY, editCmdline, firstrunWords } from '../../generator/plan/image/cmdline.js';
import { sedRemoving } from '../../generator/plan/image/firstrun.js';
import { REGENERATE_DROP_IN, SUDOERS } from '../../generator/plan/image/identity.js';
import { FIRST_BOOT_STASH, type ImageFile, type ImageIdentity, type ImagePlan, imagePlan, instanceId } from '../../generator/plan/image/index.js';
import { planPis } from '../../generator/plan/pi/index.js';
import type { PiFacts, PiOs } from '../../generator/plan/pi/part.js';
import { loadLabWith } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { SYSTEMCTL } from '../support/standins.js';
import { generateKeyPair, run, startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';

const SEED = 'labs/rpi-slurm/lab.yaml';
const RELEASES: PiOs[] = ['bullseye', 'bookworm', 'trixie'];
/** the lab user of these tests: a name no machine has, so the script makes it */
const USER = 'lgfirstboot';
const BOOT: Record<PiOs, string> = { bullseye: '/boot', bookworm: '/boot/firmware', trixie: '/boot/firmware' };

/** The stock images' cmdline.txt (one line and a newline), as pi-gen writes them for each release. */
const STOCK: Record<PiOs, string> = {
  bullseye: 'console=serial0,115200 console=tty1 root=PARTUUID=b1a2c3d4-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n',
  bookworm: 'console=serial0,115200 console=tty1 root=PARTUUID=8acef004-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n',
  trixie: 'console=serial0,115200 console=tty1 root=PARTUUID=7351b90c-02 rootfstype=ext4 fsck.repair=yes rootwait resize\n',
};

/** Two real ed25519 key pairs as the lab would have them: the lab key, another user's key, each Pi's host key. */
interface Keys {
  dir: string;
  lab: { privateKeyPath: string; publicKey: string };
  other: { privateKeyPath: string; publicKey: string };
  host: Record<string, { private: string; public: string }>;
}

async function makeKeys(nodes: string[]): Promise<Keys> {
  const dir = await mkdtemp(join(tmpdir(), 'labgen-first-boot-keys-'));
  const lab = await generateKeyPair(dir, 'id_ed25519', 'labgen@homelab');
  const other = await generateKeyPair(dir, 'other', 'me@laptop');
  const host: Keys['host'] = {};
  for (const node of nodes) {
    const k = await generateKeyPair(join(dir, 'hostkeys', node), 'ssh_host_ed25519_key', `root@${node}`);
    host[node] = { private: k.privateKey, public: `${k.publicKey}\n` };
  }
  return { dir, lab, other, host };
}

/** One Pi of the seed lab on `os`, with what `labgen image` hands the planner. */
function piOf(os: PiOs, node: string, keys: Keys, user = USER) {
  const lab = loadLabWith(SEED, { pis: { os, user } });
  const facts = new Map<string, PiFacts>();
  const files = planPis(lab, facts).filter((f) => f.host === node);
  const id: ImageIdentity = {
    node,
    hostname: node,
    user,
    authorizedKeys: [keys.lab.publicKey, keys.other.publicKey],
    hostKey: keys.host[node]!,
    labName: lab.name,
  };
  return { facts: facts.get(node)!, id, files, plan: imagePlan(facts.get(node)!, id, files) };
}

const file = (files: ImageFile[], path: string) => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} in ${files.map((x) => x.path).join(', ')}`);
  return f;
};

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys(['node01', 'node02', 'node03', 'node04', 'node05']);
});
afterAll(async () => {
  if (keys) await rm(keys.dir, { recursive: true, force: true });
});

describe('the image plan', () => {
  it('bullseye and bookworm: firstrun.sh alone on the boot partition; trixie: firstrun.sh and the cloud-init seed', () => {
    expect(piOf('bullseye', 'node02', keys).plan.boot.map((f) => f.path)).toEqual(['firstrun.sh']);
    expect(piOf('bookworm', 'node02', keys).plan.boot.map((f) => f.path)).toEqual(['firstrun.sh']);
    expect(piOf('trixie', 'node02', keys).plan.boot.map((f) => f.path)).toEqual(['firstrun.sh', 'meta-data', 'network-config', 'user-data']);
  });

  it('rootfs: the first-boot files of the lab folder as generated, and the identity files, all root 0:0', () => {
    for (const os of RELEASES) {
      const { plan, files } = piOf(os, 'node02', keys);
      const network = os === 'bullseye' ? '/etc/dhcpcd.conf' : '/etc/NetworkManager/system-connections/lab-eth0.nmconnection';
      expect(plan.rootfs.map((f) => f.path), os).toEqual(
        [
          network,
          '/etc/apt/apt.conf.d/02proxy',
          '/etc/hosts',
          '/etc/hostname',
          '/etc/ssh/ssh_host_ed25519_key',
          '/etc/ssh/ssh_host_ed25519_key.pub',
          `${FIRST_BOOT_STASH}/ssh_host_ed25519_key`,
          `${FIRST_BOOT_STASH}/ssh_host_ed25519_key.pub`,
          REGENERATE_DROP_IN,
          SUDOERS,
        ].sort(),
      );
      for (const f of plan.rootfs) expect([f.path, f.uid, f.gid]).toEqual([f.path, 0, 0]);
      for (const path of [network, '/etc/hosts', '/etc/apt/apt.conf.d/02proxy']) {
        const spec = files.find((s) => s.target?.path === path)!;
        expect(file(plan.rootfs, path).contents).toBe(spec.contents);
        expect(file(plan.rootfs, path).mode).toBe(spec.mode);
      }
      expect(file(plan.rootfs, '/etc/hostname').contents).toBe('node02\n');
      expect(file(plan.rootfs, SUDOERS).mode).toBe(0o440);
    }
  });

  it("the apt cache Pi's own apt-cacher-ng.conf stays out (its package comes with the first push), and so do other parts' files", () => {
    const { plan } = piOf('bookworm', 'node01', keys);
    const paths = plan.rootfs.map((f) => f.path);
    expect(paths).not.toContain('/etc/apt-cacher-ng/zzz-labgen.conf');
    expect(paths).not.toContain('/etc/apt/apt.conf.d/02proxy');
    expect(paths).not.toContain('/etc/exports');
    expect(paths).toContain('/etc/hosts');
  });

  it('user root: no sudoers file (root needs none)', () => {
    expect(piOf('bookworm', 'node02', keys, 'root').plan.rootfs.map((f) => f.path)).not.toContain(SUDOERS);
  });

  it('the private host key is only in the files marked secret, and those are 0600', () => {
    for (const os of RELEASES) {
      const { plan } = piOf(os, 'node02', keys);
      const body = keys.host.node02!.private.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      const holding = [...plan.boot, ...plan.rootfs].filter((f) => f.contents.replace(/\s+/g, '').includes(body));
      expect(holding.map((f) => f.path).sort(), os).toEqual(['/etc/ssh/ssh_host_ed25519_key', `${FIRST_BOOT_STASH}/ssh_host_ed25519_key`]);
      expect([...plan.boot, ...plan.rootfs].filter((f) => f.secret).map((f) => [f.path, f.mode]), os).toEqual(holding.map((f) => [f.path, 0o600]));
    }
  });

  it('the same inputs give the same bytes', () => {
    for (const os of RELEASES) {
      const a = piOf(os, 'node03', keys).plan;
      const b = piOf(os, 'node03', keys).plan;
      expect(JSON.stringify([a.boot, a.rootfs, a.cmdline(STOCK[os])])).toBe(JSON.stringify([b.boot, b.rootfs, b.cmdline(STOCK[os])]));
    }
  });

  it('trixie: network-config is the lab folder’s boot/network-config as generated', () => {
    const { plan, files } = piOf('trixie', 'node02', keys);
    expect(file(plan.boot, 'network-config').contents).toBe(files.find((f) => f.path === 'pis/node02/boot/network-config')!.contents);
  });

  it('trixie needs cloud-init in the base image; the others need nothing beyond Raspberry Pi OS', () => {
    expect(piOf('trixie', 'node02', keys).plan.needs.map((n) => n.path)).toEqual(['/usr/bin/cloud-init']);
    expect(piOf('bookworm', 'node02', keys).plan.needs).toEqual([]);
  });
});

describe('cmdline.txt', () => {
  const plans = () => Object.fromEntries(RELEASES.map((os) => [os, piOf(os, 'node02', keys).plan])) as Record<PiOs, ImagePlan>;

  it('bullseye, bookworm: the memory cgroup, then the systemd.run words at the end, once; the line ending kept', () => {
    for (const os of ['bullseye', 'bookworm'] as const) {
      const out = plans()[os].cmdline(STOCK[os]);
      expect(out).toBe(`${STOCK[os].trimEnd()} ${CGROUP_MEMORY} ${firstrunWords(`${BOOT[os]}/firstrun.sh`).join(' ')}\n`);
      expect(out.split('\n')).toHaveLength(2);
    }
  });

  it('trixie: the memory cgroup and the NoCloud instance only', () => {
    const p = piOf('trixie', 'node02', keys);
    expect(p.plan.cmdline(STOCK.trixie)).toBe(`${STOCK.trixie.trimEnd()} ${CGROUP_MEMORY} ds=nocloud;i=${instanceId(p.id)}\n`);
    expect(instanceId(p.id)).toBe('labgen-homelab-node02');
  });

  it('idempotent: its own output comes back byte for byte, and a word already there is not added again', () => {
    for (const os of RELEASES) {
      const once = plans()[os].cmdline(STOCK[os]);
      expect(plans()[os].cmdline(once), os).toBe(once);
      const withCgroup = STOCK[os].replace('rootwait', `rootwait ${CGROUP_MEMORY}`);
      expect(plans()[os].cmdline(withCgroup).match(/cgroup_enable=memory/g), os).toHaveLength(1);
    }
  });

  it('CRLF, no final newline, lines after the first: kept as they were', () => {
    const p = plans().bookworm;
    const words = ` ${CGROUP_MEMORY} ${firstrunWords('/boot/firmware/firstrun.sh').join(' ')}`;
    expect(p.cmdline('a=1 b\r\n')).toBe(`a=1 b${words}\r\n`);
    expect(p.cmdline('a=1 b')).toBe(`a=1 b${words}`);
    expect(p.cmdline('a=1  b\n# note\n')).toBe(`a=1 b${words}\n# note\n`);
    expect(p.cmdline('')).toBe(words.trim());
  });

  it("an earlier customisation's first-boot words are replaced, not kept beside labgen's", () => {
    const imager = `${STOCK.bookworm.trimEnd()} systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n`;
    expect(plans().bookworm.cmdline(imager)).toBe(plans().bookworm.cmdline(STOCK.bookworm));
    const cloud = `${STOCK.trixie.trimEnd()} ds=nocloud;i=rpi-imager-1700000000000\n`;
    expect(plans().trixie.cmdline(cloud)).toBe(plans().trixie.cmdline(STOCK.trixie));
  });

  it('editCmdline keeps a line that already says everything byte for byte (extra blanks too)', () => {
    expect(editCmdline('a  b\tc=1\n', ['b'])).toBe('a  b\tc=1\n');
  });
});

describeE2e("firstrun.sh's cmdline.txt clean-up with the real sed", { commands: ['sed'] }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labgen-first-boot-sed-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const os of ['bullseye', 'bookworm'] as const) {
    it(`${os}: leaves the stock line and the memory cgroup, CR and later lines kept, a longer word not cut`, async () => {
      const script = `${BOOT[os]}/firstrun.sh`;
      const plan = piOf(os, 'node02', keys).plan;
      const sed = (text: string) => {
        const path = join(dir, `${os}-cmdline.txt`);
        return writeFile(path, text)
          .then(() => run('sed', ['-i', ...sedRemoving(firstrunWords(script)).flatMap((e) => ['-e', e]), path]))
          .then(async (r) => {
            expect(r.code, r.stderr).toBe(0);
            return readFile(path, 'utf8');
          });
      };
      expect(await sed(plan.cmdline(STOCK[os]))).toBe(`${STOCK[os].trimEnd()} ${CGROUP_MEMORY}\n`);
      expect(await sed(plan.cmdline('a=1\r\nsecond line\n'))).toBe(`a=1 ${CGROUP_MEMORY}\r\nsecond line\n`);
      const longer = `a=1 systemd.run=${script}.old ${CGROUP_MEMORY}\n`;
      expect(await sed(longer)).toBe(longer);
    });
  }
});

describeE2e('firstrun.sh: bash -n and shellcheck', { commands: ['bash', 'shellcheck'] }, () => {
  for (const os of RELEASES) {
    for (const user of [USER, 'root']) {
      it(`${os}, user ${user}`, async () => {
        const contents = file(piOf(os, 'node02', keys, user).plan.boot, 'firstrun.sh').contents;
        expect(contents.startsWith('#!/bin/bash\n')).toBe(true);
        const syntax = await run('bash', ['-n'], { input: contents });
        expect(syntax.code, syntax.stderr).toBe(0);
        const lint = await run('shellcheck', ['--shell=bash', '--severity=style', '-'], { input: contents });
        expect(lint.code, lint.stdout + lint.stderr).toBe(0);
      });
    }
  }
});

/** cloud-init's own Python (Debian's package), whatever python3 comes first on PATH. */
const CLOUD_INIT_PYTHON = '/usr/bin/python3';

/**
 * cloud-init's NoCloud datasource on a seed folder holding the three files (the path
 * cloud-init reads a seed folder by: the same reader as the boot partition's seedfrom on the
 * Pi), printing what it found as JSON.
 */
const READ_SEED = `
import json, sys
from cloudinit import helpers
from cloudinit.sources.DataSourceNoCloud import DataSourceNoCloud
d = sys.argv[1]
ds = DataSourceNoCloud(sys_cfg={}, distro=None, paths=helpers.Paths({'cloud_dir': d, 'run_dir': d + '/run'}))
found = ds._get_data()
print(json.dumps({'found': found, 'dsmode': ds.dsmode, 'instance': ds.get_instance_id(),
                  'userdata': ds.userdata_raw.decode(), 'network': ds.network_config}))
`;

/**
 * The user-data merged over a base config as cloud-init merges them (user-data first), then
 * cloud-init's user normalisation and its hostname and /etc/hosts modules run on it, with a
 * cloud that has only a distro (Debian's): a module that would act asks the cloud for more and
 * fails; one that leaves things alone returns, "skipped".
 */
const RUN_MODULES = `
import inspect, json, logging, sys, types
from cloudinit import distros, helpers, util
from cloudinit.distros import ug_util
from cloudinit.config import cc_set_hostname, cc_update_hostname, cc_update_etc_hosts
base = {'users': ['default'], 'preserve_hostname': False, 'manage_etc_hosts': True,
        'system_info': {'default_user': {'name': 'pi', 'groups': ['sudo']}}}
cfg = util.mergemanydict([util.load_yaml(open(sys.argv[1]).read()), base])
distro = distros.fetch('debian')('debian', {'default_user': {'name': 'pi', 'groups': ['sudo']}}, helpers.Paths({}))
users, _ = ug_util.normalize_users_groups(cfg, distro)
out = {'users': users}
for m in (cc_set_hostname, cc_update_hostname, cc_update_etc_hosts):
    args = {'name': m.__name__, 'cfg': cfg, 'cloud': types.SimpleNamespace(distro=distro), 'args': [], 'log': logging.getLogger()}
    m.handle(**{k: v for k, v in args.items() if k in inspect.signature(m.handle).parameters})
    out[m.__name__.split('.')[-1][3:]] = 'skipped'
print(json.dumps(out))
`;

/** Whether the installed cloud-init is older than MAJOR.MINOR. */
async function cloudInitBefore(major: number, minor: number): Promise<boolean> {
  const v = await run('cloud-init', ['--version']);
  const m = /(\d+)\.(\d+)/.exec(v.stdout + v.stderr);
  if (!m) throw new Error(`cloud-init --version: ${v.stdout}${v.stderr}`);
  return Number(m[1]) < major || (Number(m[1]) === major && Number(m[2]) < minor);
}

describeE2e('trixie: cloud-init reads the seed', { commands: ['cloud-init'] }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labgen-first-boot-seed-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cloud-init schema: user-data is valid cloud-config (before cloud-init 23.2, whose schema refuses `users: []`, that alone)', async () => {
    const userData = file(piOf('trixie', 'node02', keys).plan.boot, 'user-data');
    expect(userData.contents.split('\n')[0]).toBe('#cloud-config');
    const path = join(dir, 'user-data');
    await writeFile(path, userData.contents);
    const r = await run('cloud-init', ['schema', '--config-file', path]);
    if (await cloudInitBefore(23, 2)) {
      // 23.2 permits an empty list ("create no users", canonical/cloud-init 3ee3846); trixie has 25
      expect(r.stdout + r.stderr).toMatch(/Cloud config schema errors: users: \[\] is too short\s*$/);
    } else {
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Valid cloud-config/);
    }
  });

  it('a misspelt value is not valid (so the check above can fail)', async () => {
    const path = join(dir, 'bad-user-data');
    await writeFile(path, file(piOf('trixie', 'node02', keys).plan.boot, 'user-data').contents.replace('ssh_deletekeys: false', 'ssh_deletekeys: nope'));
    const r = await run('cloud-init', ['schema', '--config-file', path]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/ssh_deletekeys: 'nope' is not of type 'boolean'/);
  });

  it("cloud-init's own modules, given user-data over a base config with a default user: no user made, hostname and /etc/hosts left alone", async () => {
    const path = join(dir, 'user-data-modules');
    await writeFile(path, file(piOf('trixie', 'node02', keys).plan.boot, 'user-data').contents);
    const r = await run(CLOUD_INIT_PYTHON, ['-c', RUN_MODULES, path]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ users: {}, set_hostname: 'skipped', update_hostname: 'skipped', update_etc_hosts: 'skipped' });
    // the harness can tell: with the hostname not preserved, set_hostname goes for the cloud
    await writeFile(path, file(piOf('trixie', 'node02', keys).plan.boot, 'user-data').contents.replace('preserve_hostname: true', 'preserve_hostname: false'));
    expect((await run(CLOUD_INIT_PYTHON, ['-c', RUN_MODULES, path])).code).not.toBe(0);
  });

  it("NoCloud finds the seed: the instance-id, local mode, user-data as written, network-config's eth0", async () => {
    const { plan, id } = piOf('trixie', 'node02', keys);
    const seed = join(dir, 'seed', 'nocloud');
    await mkdir(seed, { recursive: true });
    for (const name of ['user-data', 'meta-data', 'network-config']) await writeFile(join(seed, name), file(plan.boot, name).contents);
    const r = await run(CLOUD_INIT_PYTHON, ['-c', READ_SEED, dir]);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { found: boolean; dsmode: string; instance: string; userdata: string; network: { network: { ethernets: Record<string, { addresses: string[] }> } } };
    expect(got.found).toBe(true);
    expect(got.dsmode).toBe('local');
    expect(got.instance).toBe(instanceId(id));
    expect(got.userdata).toBe(file(plan.boot, 'user-data').contents);
    expect(got.network.network.ethernets.eth0!.addresses).toEqual(['10.0.0.3/24']);
  });

  it('user-data keeps cloud-init off the hostname, /etc/hosts and the host keys, makes no user, runs firstrun.sh', () => {
    const cfg = yaml.load(file(piOf('trixie', 'node02', keys).plan.boot, 'user-data').contents) as Record<string, unknown>;
    expect(cfg).toEqual({
      preserve_hostname: true,
      manage_etc_hosts: false,
      ssh_deletekeys: false,
      users: [],
      runcmd: [['bash', '/boot/firmware/firstrun.sh']],
    });
  });
});

describeE2e('sudoers and the key generator drop-in, read by sudo and systemd', { commands: ['visudo', 'systemd-analyze'] }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labgen-first-boot-units-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('visudo -c: the sudoers file parses', async () => {
    const path = join(dir, 'labgen');
    await writeFile(path, file(piOf('bookworm', 'node02', keys).plan.rootfs, SUDOERS).contents, { mode: 0o440 });
    const r = await run('visudo', ['-c', '-f', path]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/parsed OK/);
  });

  it('systemd-analyze verify (stand-in unit: raspberrypi-sys-mods is not on this machine): the drop-in has no unknown key', async () => {
    const unit = join(dir, 'regenerate_ssh_host_keys.service');
    await writeFile(unit, '[Unit]\nDescription=stand-in for raspberrypi-sys-mods\n[Service]\nType=oneshot\nExecStart=/bin/true\n');
    await mkdir(`${unit}.d`, { recursive: true });
    const dropIn = file(piOf('trixie', 'node02', keys).plan.rootfs, REGENERATE_DROP_IN).contents;
    await writeFile(join(`${unit}.d`, 'labgen.conf'), dropIn);
    const r = await run('systemd-analyze', ['verify', unit], { env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/labgen\.conf/);
    // its condition, on this machine: met exactly when there is no ed25519 host key
    const condition = dropIn.split('\n').find((l) => l.startsWith('Condition'))!;
    const c = await run('systemd-analyze', ['condition', condition]);
    expect(c.code === 0, c.stdout + c.stderr).toBe(!existsSync('/etc/ssh/ssh_host_ed25519_key'));
  });
});

// ---------------------------------------------------------------- for real on test hosts

/** The hosts: one per release, and a bookworm one whose lab user is root. */
const HOSTS: { node: string; os: PiOs; user: string }[] = [
  { node: 'node02', os: 'bullseye', user: USER },
  { node: 'node03', os: 'bookworm', user: USER },
  { node: 'node04', os: 'trixie', user: USER },
  { node: 'node05', os: 'bookworm', user: 'root' },
];

/** What Raspberry Pi OS's first boot leaves instead of labgen's keys (bullseye, bookworm): a key of its own, and an RSA one. */
const replacedBySysMods = (os: PiOs) => os !== 'trixie';

/** The image's files as `labgen image` places them, the stock cmdline.txt edited, and systemctl's stand-in. */
function imageFiles(os: PiOs, plan: ImagePlan): Record<string, { content: string; mode: number }> {
  const files: Record<string, { content: string; mode: number }> = {};
  for (const f of plan.rootfs) {
    if (replacedBySysMods(os) && f.path.startsWith('/etc/ssh/ssh_host_')) continue;
    files[f.path] = { content: f.contents, mode: f.mode };
  }
  for (const f of plan.boot) files[`${BOOT[os]}/${f.path}`] = { content: f.contents, mode: f.mode };
  files[`${BOOT[os]}/cmdline.txt`] = { content: plan.cmdline(STOCK[os]), mode: 0o755 };
  files['/usr/local/sbin/systemctl'] = { content: SYSTEMCTL, mode: 0o755 };
  // not a key (sshd here reads only its ed25519 key): the file the script must take away
  if (replacedBySysMods(os)) files['/etc/ssh/ssh_host_rsa_key'] = { content: 'made by the first boot\n', mode: 0o600 };
  return files;
}

/** How the release starts the script: systemd.run runs the file; cloud-init runs user-data's runcmd (a shell line per item). */
function firstBootCommand(os: PiOs, plan: ImagePlan): string {
  if (os !== 'trixie') return `${BOOT[os]}/firstrun.sh`;
  const cfg = yaml.load(file(plan.boot, 'user-data').contents) as { runcmd: string[][] };
  return cfg.runcmd.map((argv) => argv.map(shellQuote).join(' ')).join('\n');
}

/** ssh to the host as `user` with `key`, trusting only `hostKey` (StrictHostKeyChecking: no other key, no prompt). */
async function sshAs(host: TestHost, user: string, key: string, hostKey: string, knownHostsDir: string, cmd: string) {
  const knownHosts = join(knownHostsDir, `known_hosts-${host.name}`);
  await writeFile(knownHosts, `${host.ip} ${hostKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
  return run('ssh', [
    '-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=20',
    `${user}@${host.ip}`, cmd,
  ]);
}

/** SIGHUP: sshd (PID 1 of the host) execs itself again and reads its host keys anew; wait until it answers. */
async function reloadSshd(host: TestHost) {
  expect((await host.exec('kill -HUP 1')).code).toBe(0);
  for (let i = 0; i < 200; i++) {
    const r = await run('ssh-keyscan', ['-T', '2', '-t', 'ed25519', host.ip]);
    if (r.stdout.includes('ssh-ed25519')) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`sshd on ${host.name} did not answer after SIGHUP\n${host.log()}`);
}

describeE2e(
  'first boot on test hosts (systemctl is a test-host stand-in: no systemd here)',
  { root: true, commands: ['ip', 'sshd', 'ssh', 'ssh-keygen', 'ssh-keyscan', 'sudo', 'useradd', 'unshare', 'nsenter', 'setpriv', 'tar', 'sed'] },
  () => {
    let group: TestHostGroup;
    const plans = new Map<string, ReturnType<typeof piOf>>();
    const runs = new Map<string, { first: { code: number; stdout: string; stderr: string }; second: { code: number; stdout: string; stderr: string } }>();

    beforeAll(async () => {
      for (const h of HOSTS) plans.set(h.node, piOf(h.os, h.node, keys, h.user));
      group = await startHosts(HOSTS.length, {
        names: HOSTS.map((h) => h.node),
        files: (info) => {
          const h = HOSTS[info.index]!;
          return imageFiles(h.os, plans.get(h.node)!.plan);
        },
      });
      for (const h of HOSTS) {
        const host = group.host(h.node);
        const plan = plans.get(h.node)!.plan;
        // kept for the second run: the first deletes the script
        await host.exec(`cp ${BOOT[h.os]}/firstrun.sh /root/firstrun-again.sh`);
        const first = await host.exec(firstBootCommand(h.os, plan));
        const second = await host.exec('bash /root/firstrun-again.sh');
        runs.set(h.node, { first, second });
      }
    }, 180_000);

    afterAll(async () => {
      await group?.stopAll();
    });

    for (const h of HOSTS) {
      describe(`${h.node}: Raspberry Pi OS ${h.os}, user ${h.user}`, () => {
        const ctx = () => ({ host: group.host(h.node), plan: plans.get(h.node)!.plan, r: runs.get(h.node)! });

        it('the script succeeds, says what it does on stdout (the console), and succeeds again changing nothing', () => {
          const { r } = ctx();
          expect(r.first.code, r.first.stdout + r.first.stderr).toBe(0);
          expect(r.first.stdout).toContain(`labgen first boot (${h.node}): done`);
          if (replacedBySysMods(h.os)) expect(r.first.stdout).toContain('installing the host key pinned for');
          expect(r.second.code, r.second.stdout + r.second.stderr).toBe(0);
          expect(r.second.stdout).not.toMatch(/installing|removing|creating|renaming/);
        });

        it('it deleted itself and the key copy; cmdline.txt is the stock line and the memory cgroup', async () => {
          const { host, plan } = ctx();
          expect(existsSync(join(host.root, BOOT[h.os], 'firstrun.sh'))).toBe(false);
          expect(existsSync(join(host.root, FIRST_BOOT_STASH))).toBe(false);
          const expected = h.os === 'trixie' ? plan.cmdline(STOCK[h.os]) : `${STOCK[h.os].trimEnd()} ${CGROUP_MEMORY}\n`;
          expect(await host.readFile(`${BOOT[h.os]}/cmdline.txt`)).toBe(expected);
        });

        it("only labgen's host key is left in /etc/ssh, 0600 and 0644", async () => {
          const { host } = ctx();
          const ls = await host.exec("stat -c '%n %a %U' /etc/ssh/ssh_host_*");
          expect(ls.stdout.trim().split('\n')).toEqual(['/etc/ssh/ssh_host_ed25519_key 600 root', '/etc/ssh/ssh_host_ed25519_key.pub 644 root']);
          expect(await host.readFile('/etc/ssh/ssh_host_ed25519_key')).toBe(keys.host[h.node]!.private);
        });

        it('the user: authorized_keys 0600 and ~/.ssh 0700, its own; no password; in group sudo', async () => {
          const { host } = ctx();
          const home = h.user === 'root' ? '/root' : `/home/${h.user}`;
          const st = await host.exec(`stat -c '%a %U' ${home}/.ssh ${home}/.ssh/authorized_keys`);
          expect(st.stdout.trim().split('\n')).toEqual([`700 ${h.user}`, `600 ${h.user}`]);
          expect(await host.readFile(`${home}/.ssh/authorized_keys`)).toBe(`${keys.lab.publicKey}\n${keys.other.publicKey}\n`);
          if (h.user !== 'root') {
            expect((await host.exec(`getent shadow ${h.user} | cut -d: -f2`)).stdout.trim()).toBe('*');
            expect((await host.exec(`id -nG ${h.user}`)).stdout.split(/\s+/)).toContain('sudo');
          }
        });

        it(`sshd is enabled (stand-in: systemctl)${h.os === 'trixie' ? ' and restarted' : ''}`, async () => {
          const log = await ctx().host.readFile('/var/log/standin.log');
          expect(log).toContain('systemctl enable ssh\n');
          if (h.os === 'trixie') expect(log).toContain('systemctl restart ssh\n');
        });

        it('sshd presents the pinned host key; the lab key and the other key log in; sudo -n works', async () => {
          const { host } = ctx();
          await reloadSshd(host);
          const pinned = keys.host[h.node]!.public;
          for (const key of [keys.lab.privateKeyPath, keys.other.privateKeyPath]) {
            const r = await sshAs(host, h.user, key, pinned, keys.dir, 'sudo -n id -u');
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout.trim()).toBe('0');
          }
        });

        it('(a control) a key pinned for another Pi is refused: the client checks the host key', async () => {
          const { host } = ctx();
          const other = keys.host[h.node === 'node02' ? 'node01' : 'node02']!.public;
          const r = await sshAs(host, h.user, keys.lab.privateKeyPath, other, keys.dir, 'true');
          expect(r.code).not.toBe(0);
          expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
        });
      });
    }
  },
);
