/**
 * containerd on the VMs (issue #13, item 5): provision/common.sh places and runs
 * provision/files/usr/local/sbin/labgen-containerd, which keeps the installed containerd when it
 * fits the lab's Kubernetes (KUBERNETES_RELEASES, from containerd's RELEASES.md), installs Docker's
 * containerd.io otherwise, and places the config of its major version.
 *
 * Real here: the containerd binaries (Debian trixie's 1.7 as `containerd-1.7`, sid's 2.x as
 * `containerd-2`, Debian 12's own 1.6 as `containerd`: the packages .ci/run installs) as the VM's
 * containerd and as the reader of the config it placed (`containerd --config … config dump`);
 * apt reading the Docker source it wrote; gpg checking a key there before or downloaded; Docker's
 * real apt key (as Debian's extrepo-offline-data ships it: .ci/run installs it); the helper's own `fits`
 * in bash against containerdFits. Stand-ins, named in the tests, where a test host cannot do the
 * real thing (no systemd as PID 1, no network): systemctl, and curl and apt-get, which record their
 * calls; the apt-get stand-in's `install containerd.io` puts a real containerd binary in place.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBERNETES_MINORS } from '../../generator/model/schema.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import { containerdFits, containerdReleases, pauseImage, UPSTREAM } from '../../generator/plan/support/versions.js';
import { expectV2, expectV3 } from '../support/containerd-config.js';
import { planLab } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { SYSTEMCTL } from '../support/standins.js';
import { startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';

const HELPER = 'provision/files/usr/local/sbin/labgen-containerd';
/** Docker's apt signing key, as Debian's extrepo-offline-data ships it (the test hosts see the machine's files) */
const DOCKER_KEY = '/usr/share/extrepo/offline-data/debian/bookworm/docker-ce.asc';
const CONFIG_V2 = 'provision/files/etc/containerd/config-v2.toml';
const CONFIG_V3 = 'provision/files/etc/containerd/config-v3.toml';
const ROOTFS = 'provision/files/';
const RUN = `PATH=/usr/local/sbin:/usr/local/bin:$PATH bash /vagrant/${HELPER}`;
const plans = new Map<string, FileSpec[]>();
/** the plan of the minimal lab pinning Kubernetes `minor` */
function planFor(minor: string): FileSpec[] {
  if (!plans.has(minor)) plans.set(minor, planLab('labs/minimal/lab.yaml', { cluster: { kubernetesVersion: minor } }).files);
  return plans.get(minor)!;
}
const contents = (files: FileSpec[], path: string) => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`the plan has no ${path}`);
  return f.contents;
};

describe('the plan: labgen-containerd and the configs it may place', () => {
  for (const minor of KUBERNETES_MINORS) {
    it(`Kubernetes ${minor}: the helper carries its containerd releases (${containerdReleases(minor).join(', ')}); config-v3.toml always, config-v2.toml exactly when a 1.7 fits`, () => {
      const files = planFor(minor);
      const helper = contents(files, HELPER);
      expect(helper).toContain(`\nkubernetes=${minor}\n`);
      expect(helper).toContain(`\nrecommended=(${containerdReleases(minor).join(' ')})\n`);
      expect(files.find((f) => f.path === HELPER)?.mode).toBe(0o755);
      expect(contents(files, CONFIG_V3)).toMatch(/^version = 3$/m);
      expect(contents(files, CONFIG_V3)).toContain(`sandbox = '${pauseImage(minor)}'`);
      const v2 = files.find((f) => f.path === CONFIG_V2);
      expect(Boolean(v2)).toBe(containerdReleases(minor).some((r) => r.startsWith('1.')));
      if (v2) expect(v2.contents).toMatch(/^version = 2$/m);
      if (v2) expect(v2.contents).toContain(`sandbox_image = "${pauseImage(minor)}"`);
    });
  }
  it('common.sh places the helper 0755 and runs it, and installs no containerd package itself', () => {
    const common = contents(planFor('1.37'), 'provision/common.sh');
    expect(common).toMatch(/^place \/usr\/local\/sbin\/labgen-containerd 0755\n\/usr\/local\/sbin\/labgen-containerd "\$rootfs"$/m);
    expect(common).not.toMatch(/install_packages .*\bcontainerd\b/);
    expect(common).not.toContain('/etc/containerd/config.toml');
  });
});

describe('which containerd fits (containerdFits, and the same decision in the helper in bash)', () => {
  const CASES: [string, string, boolean][] = [
    ['1.33', '1.7.24', true],
    ['1.33', '1.7.23', false],
    ['1.33', '1.6.39', false], // 1.6 reached end of life: not in the table
    ['1.33', '2.0.4', true],
    ['1.33', '2.0.3', false],
    ['1.33', '2.3.4', true], // a newer line than the table names
    ['1.34', '1.7.27', false],
    ['1.34', '1.7.28', true],
    ['1.34', '2.1.2', false],
    ['1.35', '2.0.9', false], // not a 1.35 line, and older than 2.1
    ['1.35', '2.1.5', true],
    ['1.35', '2.2.0', true],
    ['1.36', '1.7.30', false],
    ['1.36', '2.1.9', false],
    ['1.37', '2.2.0', true],
    ['1.37', '2.3.0', true],
    ['1.37', '2.4.1', true],
    ['1.37', '10.0.0', true],
  ];
  it.each(CASES)('Kubernetes %s, containerd %s: fits is %s', (minor, installed, fits) => {
    expect(containerdFits(minor, installed)).toBe(fits);
  });

  /** the helper's fits() function, cut from the generated script (from its line to the closing brace) */
  function fitsFunction(minor: string): string {
    const helper = contents(planFor(minor), HELPER);
    const m = /^fits\(\) \{\n[\s\S]*?^\}\n/m.exec(helper);
    if (!m) throw new Error('labgen-containerd has no fits() function');
    const recommended = /^recommended=\(.*\)$/m.exec(helper)![0];
    return `${recommended}\n${m[0]}`;
  }
  it.each(KUBERNETES_MINORS)('Kubernetes %s: bash fits() in the generated helper agrees with containerdFits on every case', (minor) => {
    const versions = [...new Set(CASES.map(([, v]) => v))];
    const script = `${fitsFunction(minor)}\nfor v in ${versions.join(' ')}; do if fits "$v"; then echo "$v yes"; else echo "$v no"; fi; done\n`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(versions.map((v) => `${v} ${containerdFits(minor, v) ? 'yes' : 'no'}`));
  });
});

// ---------------------------------------------------------------------------------------------
// the helper, run on test hosts
// ---------------------------------------------------------------------------------------------

/** curl stand-in (no network): records its calls; -o FILE gets /var/lib/standin/curl-response */
const CURL = `#!/bin/bash
# test-host stand-in for curl (no network here): records every call, answers with a prepared file
echo "curl $*" >> /var/log/standin.log
out=
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
[ -f /var/lib/standin/curl-response ] || { echo "curl stand-in: no response prepared" >&2; exit 22; }
cp /var/lib/standin/curl-response "$out"
`;

/** apt-get stand-in (no network): records its calls; installing containerd.io links /usr/bin/containerd to a real one */
const APT_GET = `#!/bin/bash
# test-host stand-in for apt-get (no network here): records every call; "install … containerd.io"
# links /usr/bin/containerd to the real binary named in /var/lib/standin/containerd.io (none: installs nothing)
echo "apt-get $*" >> /var/log/standin.log
if [ "\${*: -1}" = containerd.io ] && [[ " $* " == *" install "* ]] && [ -s /var/lib/standin/containerd.io ]; then
  ln -sf "$(cat /var/lib/standin/containerd.io)" /usr/bin/containerd
fi
`;

const UBUNTU_NOBLE = `PRETTY_NAME="Ubuntu 24.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.3 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=noble
`;

/** where a command of this machine's PATH is, resolved (the test hosts see the machine's files at the same paths) */
function which(cmd: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      return realpathSync(join(dir, cmd));
    } catch {
      /* not in this one */
    }
  }
  throw new Error(`${cmd} is not on PATH`);
}

/** X.Y.Z that `containerd --version` of this binary says */
function versionOf(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout;
  const m = /\sv?(\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m) throw new Error(`${binary} --version: ${out}`);
  return `${m[1]}.${m[2]}.${m[3]}`;
}

/** each test host: the Kubernetes its lab pins */
const SCENARIOS = {
  c17: '1.33', // containerd 1.7 installed: fits 1.33
  c2: '1.35', // containerd 2.x installed: fits 1.35
  debian: '1.35', // Debian 12's own containerd 1.6: containerd.io comes from Docker's repository
  ubuntu: '1.37', // Ubuntu 24.04, no containerd, and the repository gives none that fits
  badkey: '1.37', // the key downloaded is not Docker's
  wrongkey: '1.37', // a key that is not Docker's already at Docker's keyring path
} as const;
type Scenario = keyof typeof SCENARIOS;

describeE2e(
  'labgen-containerd on test hosts (systemctl, curl and apt-get are test-host stand-ins: no systemd, no network here)',
  { root: true, commands: ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'containerd', 'containerd-1.7', 'containerd-2', 'gpg', 'apt-get'] },
  () => {
    let group: TestHostGroup;
    const bin = { c16: '', c17: '', c2: '' };
    const version = { c16: '', c17: '', c2: '' };
    let machineConfig = '';
    let codename = '';
    const gpgHome = mkdtempSync(join(tmpdir(), 'labgen-gpg-'));
    let testKey = '';
    let testFingerprint = '';
    const log = async (host: TestHost) => (await host.exec('cat /var/log/standin.log 2>/dev/null || true')).stdout;
    const generated = (s: Scenario, path: string) => contents(planFor(SCENARIOS[s]), path);
    const dump = (host: TestHost) => host.exec('PATH=/usr/local/bin:$PATH containerd --config /etc/containerd/config.toml config dump');

    beforeAll(async () => {
      bin.c16 = which('containerd');
      version.c16 = versionOf(bin.c16);
      bin.c17 = which('containerd-1.7');
      bin.c2 = which('containerd-2');
      version.c17 = versionOf(bin.c17);
      version.c2 = versionOf(bin.c2);
      machineConfig = (() => {
        try {
          return readFileSync('/etc/containerd/config.toml', 'utf8');
        } catch {
          return '';
        }
      })();
      codename = /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))![1]!;
      // a key of our own, with a fingerprint that is not Docker's
      const gpg = (...args: string[]) => spawnSync('gpg', ['--homedir', gpgHome, '--batch', ...args], { encoding: 'utf8' });
      const made = gpg('--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'labgen test key <test@example.invalid>', 'ed25519', 'sign', 'never');
      expect(made.status, made.stderr).toBe(0);
      testKey = gpg('--armor', '--export').stdout;
      testFingerprint = /^fpr:+([0-9A-F]+):/m.exec(gpg('--with-colons', '--list-keys').stdout)![1]!;
      if (!existsSync(DOCKER_KEY)) throw new Error(`${DOCKER_KEY}: missing; Debian's extrepo-offline-data has it (.ci/run installs it)`);
      const dockerFpr = /^fpr:+([0-9A-F]+):/m.exec(gpg('--with-colons', '--show-keys', DOCKER_KEY).stdout)?.[1];
      expect(dockerFpr, `${DOCKER_KEY} is Docker's key`).toBe(UPSTREAM.containerdApt.keyFingerprint);

      group = await startHosts(Object.keys(SCENARIOS).length, {
        names: Object.keys(SCENARIOS),
        files: (h) => ({
          '/usr/local/sbin/systemctl': { content: SYSTEMCTL, mode: 0o755 },
          '/usr/local/sbin/curl': { content: CURL, mode: 0o755 },
          '/usr/local/sbin/apt-get': { content: APT_GET, mode: 0o755 },
          ...(h.name === 'ubuntu' ? { '/etc/os-release': UBUNTU_NOBLE } : {}),
          ...(h.name === 'badkey'
            ? { '/var/lib/standin/curl-response': testKey }
            : { '/etc/apt/keyrings/docker.asc': h.name === 'wrongkey' ? testKey : readFileSync(DOCKER_KEY, 'utf8') }),
          ...(h.name === 'debian' ? { '/var/lib/standin/containerd.io': `${bin.c2}\n` } : {}),
        }),
      });
      for (const h of group.hosts) {
        const s = h.name as Scenario;
        for (const f of planFor(SCENARIOS[s]).filter((x) => x.path.startsWith(ROOTFS))) await h.writeFile(`/vagrant/${f.path}`, { content: f.contents, mode: f.mode });
        // what each host has installed: a containerd of this machine's, or none
        const installed = { c17: bin.c17, c2: bin.c2 }[s as 'c17' | 'c2'];
        const setup = [
          'rm -f /usr/local/bin/containerd',
          ...(s === 'ubuntu' || s === 'wrongkey' ? ['rm -f /usr/bin/containerd'] : []),
          ...(s === 'badkey' ? ['rm -f /etc/apt/keyrings/docker.asc'] : []),
          ...(installed ? [`ln -s ${installed} /usr/local/bin/containerd`] : []),
        ];
        const r = await h.exec(setup.join(' && '));
        expect(r.code, r.stderr).toBe(0);
      }
    }, 120_000);
    afterAll(async () => {
      await group?.stopAll();
      // the gpg-agent that generating the key started, for that home only
      spawnSync('gpgconf', ['--homedir', gpgHome, '--kill', 'gpg-agent']);
      rmSync(gpgHome, { recursive: true, force: true });
    });

    it('the stand-ins record their calls, and the containerd each host runs is the one it was given', async () => {
      const onHost = (h: string, cmd: string) => group.host(h).exec(`PATH=/usr/local/bin:$PATH ${cmd}`);
      expect((await onHost('c17', 'containerd --version')).stdout).toContain(version.c17);
      expect((await onHost('c2', 'containerd --version')).stdout).toContain(version.c2);
      expect((await onHost('ubuntu', 'command -v containerd || echo none')).stdout.trim()).toBe('none');
      const host = group.host('ubuntu');
      await host.exec(': > /var/log/standin.log; PATH=/usr/local/sbin:$PATH apt-get update -q');
      expect(await log(host)).toBe('apt-get update -q\n');
    });

    for (const [s, label, expectConfig] of [
      ['c17', 'containerd 1.7 (Debian trixie\'s, real) and Kubernetes 1.33', expectV2],
      ['c2', 'containerd 2.x (Debian sid\'s, real) and Kubernetes 1.35', expectV3],
    ] as const) {
      it(`${label}: it fits, nothing is downloaded, its config format is placed and real containerd reads it; a second run changes nothing`, async () => {
        const host = group.host(s);
        const v = version[s];
        expect(containerdFits(SCENARIOS[s], v), `${v} should fit ${SCENARIOS[s]}`).toBe(true);
        await host.exec(': > /var/log/standin.log');
        const first = await host.exec(RUN);
        expect(first.code, first.stderr).toBe(0);
        expect(first.stdout.trim()).toBe(`containerd ${v}: changed: /etc/containerd/config.toml enabled containerd`);
        expect(await host.readFile('/etc/containerd/config.toml')).toBe(generated(s, s === 'c17' ? CONFIG_V2 : CONFIG_V3));
        const calls = (await log(host)).split('\n');
        expect(calls).toContain('systemctl restart containerd');
        expect(calls.filter((c) => /^(curl|apt-get) /.test(c))).toEqual([]);
        const d = await dump(host);
        expect(d.code, d.stderr).toBe(0);
        expectConfig(d.stdout, SCENARIOS[s]);

        const second = await host.exec(RUN);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout.trim()).toBe(`containerd ${v}: nothing to change`);
      });
    }

    it("Debian 12's own containerd 1.6 (real) and Kubernetes 1.35: Docker's repository for debian and this release, containerd.io installed (apt-get stand-in: a real containerd 2.x), its config read by it; real apt reads the source; a second run downloads nothing", async () => {
      if (!bin.c16) throw new Error('no containerd on PATH: the Debian package .ci/run installs');
      const host = group.host('debian');
      expect(containerdFits('1.35', version.c16)).toBe(false);
      await host.exec(': > /var/log/standin.log');
      const first = await host.exec(RUN);
      expect(first.code, first.stderr).toBe(0);
      const lines = first.stdout.trim().split('\n');
      expect(lines[0]).toBe(`labgen-containerd: containerd ${version.c16} does not fit Kubernetes 1.35 (2.2.0 2.1.5 1.7.28 or later): installing containerd.io`);
      expect(lines.at(-1)).toBe(
        `containerd ${version.c2}: changed: /etc/apt/sources.list.d/docker.sources packages: containerd.io /etc/containerd/config.toml enabled containerd`,
      );
      expect((await log(host)).split('\n').filter((c) => /^(curl|apt-get) /.test(c))).toEqual([
        'apt-get update -q',
        'apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold containerd.io',
      ]);
      const sources = await host.readFile('/etc/apt/sources.list.d/docker.sources');
      expect(sources).toBe(
        `Types: deb\nURIs: ${UPSTREAM.containerdApt.base}/debian\nSuites: ${codename}\nComponents: stable\nSigned-By: /etc/apt/keyrings/docker.asc\n`,
      );
      const idx = await host.exec(
        'd=$(mktemp -d) && cp /etc/apt/sources.list.d/docker.sources "$d/" && mkdir "$d/lists" && ' +
          `/usr/bin/apt-get -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$d" -o "Dir::State::Lists=$d/lists" ` +
          "indextargets --no-release-info --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)'",
      );
      expect(idx.code, idx.stderr).toBe(0);
      expect([...new Set(idx.stdout.trim().split('\n'))]).toEqual([`deb ${UPSTREAM.containerdApt.base}/debian/ ${codename} stable`]);
      expect(await host.readFile('/etc/containerd/config.toml')).toBe(generated('debian', CONFIG_V3));
      const d = await dump(host);
      expect(d.code, d.stderr).toBe(0);
      expectV3(d.stdout, '1.35');

      const before = (await log(host)).length;
      const second = await host.exec(RUN);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout.trim()).toBe(`containerd ${version.c2}: nothing to change`);
      expect((await log(host)).slice(before)).not.toMatch(/^(curl|apt-get) /m);
    });

    it('Ubuntu 24.04 without containerd and Kubernetes 1.37, where the repository gives none that fits (apt-get stand-in installs nothing): the ubuntu/noble source is written, then it fails naming what 1.37 needs, and places no config', async () => {
      const host = group.host('ubuntu');
      const r = await host.exec(RUN);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('labgen-containerd: containerd (none) does not fit Kubernetes 1.37 (2.3.0 2.2.0 or later): installing containerd.io');
      expect(r.stderr.trim()).toBe('labgen-containerd: containerd.io gave containerd (none), which does not fit Kubernetes 1.37 either (2.3.0 2.2.0 or later)');
      expect(await host.readFile('/etc/apt/sources.list.d/docker.sources')).toBe(
        `Types: deb\nURIs: ${UPSTREAM.containerdApt.base}/ubuntu\nSuites: noble\nComponents: stable\nSigned-By: /etc/apt/keyrings/docker.asc\n`,
      );
      const config = await host.exec('cat /etc/containerd/config.toml 2>/dev/null || true');
      expect(config.stdout).toBe(machineConfig);
    });

    it("a key that is not Docker's (real gpg reads its fingerprint): refused, no keyring, no source, no apt-get, nothing left in /tmp; on an OS that is neither debian nor ubuntu it says so", async () => {
      const host = group.host('badkey');
      await host.exec(': > /var/log/standin.log');
      const tmpBefore = (await host.exec('ls -A /tmp')).stdout;
      const r = await host.exec(RUN);
      expect(r.code).toBe(1);
      expect((await host.exec('ls -A /tmp')).stdout, 'its downloads and drafts are gone').toBe(tmpBefore);
      expect(r.stderr.trim()).toBe(
        `labgen-containerd: ${UPSTREAM.containerdApt.base}/debian/gpg is not Docker's apt key (fingerprint ${testFingerprint}, expected ${UPSTREAM.containerdApt.keyFingerprint}): nothing installed`,
      );
      expect(testFingerprint).not.toBe(UPSTREAM.containerdApt.keyFingerprint);
      expect((await host.exec('test -e /etc/apt/keyrings/docker.asc || test -e /etc/apt/sources.list.d/docker.sources || echo neither')).stdout.trim()).toBe('neither');
      const calls = (await log(host)).split('\n').filter(Boolean);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatch(new RegExp(`^curl -fsSL ${UPSTREAM.containerdApt.base}/debian/gpg -o \\S+$`));

      await host.writeFile('/etc/os-release', 'ID=fedora\nVERSION_ID=43\n');
      const other = await host.exec(RUN);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain("labgen-containerd: this VM runs fedora: Docker's apt repository has containerd.io for debian and ubuntu only");
    });

    it("a key that is not Docker's already at /etc/apt/keyrings/docker.asc (real gpg reads it): refused, left as it was, no source, no download, no apt-get; once it is gone, Docker's real key is downloaded (curl stand-in) and installed", async () => {
      const host = group.host('wrongkey');
      const keyring = '/etc/apt/keyrings/docker.asc';
      await host.exec(': > /var/log/standin.log');
      const r = await host.exec(RUN);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `labgen-containerd: ${keyring} is not Docker's apt key (fingerprint ${testFingerprint}, expected ${UPSTREAM.containerdApt.keyFingerprint}): nothing installed; remove it and labgen-containerd downloads Docker's`,
      );
      expect(await host.readFile(keyring)).toBe(testKey);
      expect((await host.exec('test -e /etc/apt/sources.list.d/docker.sources || echo none')).stdout.trim()).toBe('none');
      expect((await log(host)).split('\n').filter((c) => /^(curl|apt-get) /.test(c))).toEqual([]);

      // Docker's key with another key after it: apt would trust both for Docker's repository
      await host.writeFile(keyring, `${readFileSync(DOCKER_KEY, 'utf8')}${testKey}`);
      const both = await host.exec(RUN);
      expect(both.code).toBe(1);
      expect(both.stderr.trim()).toBe(
        `labgen-containerd: ${keyring} is not Docker's apt key (fingerprint ${UPSTREAM.containerdApt.keyFingerprint} ${testFingerprint}, expected ${UPSTREAM.containerdApt.keyFingerprint}): nothing installed; remove it and labgen-containerd downloads Docker's`,
      );

      await host.exec(`rm ${keyring}`);
      await host.writeFile('/var/lib/standin/curl-response', readFileSync(DOCKER_KEY, 'utf8'));
      const fetched = await host.exec(RUN);
      // the key and the source are in place; then the repository (apt-get stand-in) gives no containerd that fits 1.37
      expect(fetched.stderr.trim()).toBe('labgen-containerd: containerd.io gave containerd (none), which does not fit Kubernetes 1.37 either (2.3.0 2.2.0 or later)');
      expect(await host.readFile(keyring)).toBe(readFileSync(DOCKER_KEY, 'utf8'));
      expect((await host.exec(`stat -c %a ${keyring}`)).stdout.trim()).toBe('644');
      expect((await log(host)).split('\n').filter((c) => /^curl /.test(c))).toHaveLength(1);
      expect(await host.readFile('/etc/apt/sources.list.d/docker.sources')).toContain(`Signed-By: ${keyring}\n`);
    });
  },
);
