/**
 * common.sh's Kubernetes packages step (kubeadm, kubelet, kubectl pinned and held), run for real
 * on test hosts (test/support/test-hosts.ts: each its own root over the machine's) with the real
 * dpkg, dpkg-query and apt-mark: packages of those names installed at a version (built here with
 * dpkg-deb), the step run as common.sh runs it. Only what reaches the internet stands in: apt-get
 * and curl record their calls (no network here). When all three are at the lab's version nothing
 * is fetched (a VM provisioned again offline), otherwise the repository's key and lists are.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import { planLab } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { startHosts, type TestHostGroup } from '../support/test-hosts.js';

const CURL = `#!/bin/bash
# test-host stand-in for curl (no network here): records every call, prints a prepared key
echo "curl $*" >> /var/log/standin.log
cat /var/lib/standin/release.key
`;
const APT_GET = `#!/bin/bash
# test-host stand-in for apt-get (no network here): records every call; an install installs the
# packages prepared in /var/lib/standin/new/ (with the real dpkg), if any
echo "apt-get $*" >> /var/log/standin.log
if [[ " $* " == *" install "* ]] && compgen -G '/var/lib/standin/new/*.deb' >/dev/null; then dpkg -i /var/lib/standin/new/*.deb >/dev/null; fi
`;
/** an armored OpenPGP key standing for the Kubernetes repository's (Debian's extrepo-offline-data ships it; .ci/run installs it) */
const SOME_KEY = '/usr/share/extrepo/offline-data/debian/bookworm/docker-ce.asc';

const PACKAGES = ['kubeadm', 'kubectl', 'kubelet'];
/** what installing Kubernetes 1.35 calls: the repository's key (none there yet), its lists, the pinned minor */
const INSTALL_135 = [
  'curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.35/deb/Release.key',
  'apt-get update -q',
  'apt-get install -y -q --allow-downgrades kubelet=1.35.* kubeadm=1.35.* kubectl=1.35.*',
];
const LIST = 'provision/files/etc/apt/sources.list.d/kubernetes.list';

/** each host: the version the lab pins, the version its packages are installed at (none: not installed), held or not */
const SCENARIOS = {
  pinned: { pin: '1.35', installed: '1.35.0-1.1', held: true },
  unheld: { pin: '1.35', installed: '1.35.0-1.1', held: false },
  oldminor: { pin: '1.35', installed: '1.34.3-1.1', held: true },
  patch: { pin: '1.35.2', installed: '1.35.0-1.1', held: true },
  none: { pin: '1.35', installed: '', held: false, installs: '1.35.0-1.1' },
} as const;
type Scenario = keyof typeof SCENARIOS;

/** common.sh's start (its variables and helpers) and its Kubernetes packages step, as one script */
function packagesStep(files: FileSpec[]): string {
  const common = files.find((f) => f.path === 'provision/common.sh')!.contents as string;
  const head = common.slice(0, common.indexOf('# The SSH host key labgen made'));
  const from = common.indexOf('# kubeadm, kubelet, kubectl pinned');
  const step = common.slice(from, common.indexOf('if ! systemctl is-enabled --quiet kubelet', from));
  if (!head || from < 0 || !step) throw new Error('common.sh: its Kubernetes packages step was not found');
  return `${head}${step}report "kubernetes packages"\n`;
}

describeE2e(
  'common.sh pins kubeadm, kubelet and kubectl on test hosts: real dpkg and apt-mark; nothing fetched when they are at the pinned version (stand-in: apt-get, curl; no network here)',
  { root: true, commands: ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'dpkg-deb', 'gpg'] },
  () => {
    let group: TestHostGroup;
    const debs = mkdtempSync(join(tmpdir(), 'labgen-k8s-debs-'));
    const plans = new Map<string, FileSpec[]>();
    const planFor = (pin: string) => {
      if (!plans.has(pin)) plans.set(pin, planLab('labs/minimal/lab.yaml', { cluster: { kubernetesVersion: pin } }).files);
      return plans.get(pin)!;
    };
    /** a package of that name and version, built with dpkg-deb (what it holds does not matter to the step) */
    const deb = (pkg: string, version: string) => {
      const root = join(debs, `${pkg}-${version}`);
      mkdirSync(join(root, 'DEBIAN'), { recursive: true });
      writeFileSync(
        join(root, 'DEBIAN', 'control'),
        `Package: ${pkg}\nVersion: ${version}\nArchitecture: all\nMaintainer: labgen tests <labgen@invalid>\nDescription: labgen test package standing for ${pkg}\n`,
      );
      const out = join(debs, `${pkg}_${version}_all.deb`);
      const r = spawnSync('dpkg-deb', ['--root-owner-group', '--build', root, out], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`dpkg-deb: ${r.stderr}`);
      return readFileSync(out);
    };
    const run = (s: Scenario) => group.host(s).exec(`: >/var/log/standin.log; PATH=/usr/local/sbin:$PATH bash /vagrant/k8s-packages.sh k8s 10.0.0.10`);
    const calls = async (s: Scenario) => (await group.host(s).exec('cat /var/log/standin.log')).stdout.split('\n').filter(Boolean);

    beforeAll(async () => {
      const names = Object.keys(SCENARIOS) as Scenario[];
      group = await startHosts(names.length, {
        names,
        files: (h) => {
          const s = SCENARIOS[h.name as Scenario];
          const files = planFor(s.pin);
          return {
            '/usr/local/sbin/curl': { content: CURL, mode: 0o755 },
            '/usr/local/sbin/apt-get': { content: APT_GET, mode: 0o755 },
            '/var/lib/standin/release.key': readFileSync(SOME_KEY, 'utf8'),
            '/vagrant/k8s-packages.sh': packagesStep(files),
            [`/vagrant/${LIST}`]: files.find((f) => f.path === LIST)!.contents as string,
            ...Object.fromEntries(s.installed ? PACKAGES.map((p) => [`/var/lib/standin/${p}.deb`, deb(p, s.installed)]) : []),
            ...Object.fromEntries('installs' in s ? PACKAGES.map((p) => [`/var/lib/standin/new/${p}.deb`, deb(p, s.installs)]) : []),
          };
        },
      });
      for (const name of names) {
        const s = SCENARIOS[name];
        const setup = [
          // the machine's own state of these packages (none, on a test machine) and keyring stay out of the hosts'
          'rm -f /etc/apt/keyrings/kubernetes-apt-keyring.gpg /etc/apt/sources.list.d/kubernetes.list',
          ...(s.installed ? ['dpkg -i /var/lib/standin/kubeadm.deb /var/lib/standin/kubectl.deb /var/lib/standin/kubelet.deb >/dev/null'] : []),
          ...(s.held ? ['apt-mark hold kubeadm kubectl kubelet >/dev/null'] : []),
        ];
        const r = await group.host(name).exec(setup.join(' && '));
        expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      }
    }, 120_000);
    afterAll(async () => {
      await group?.stopAll();
      rmSync(debs, { recursive: true, force: true });
    });

    it('at the pinned minor and held: nothing fetched, nothing changed but the apt source placed; a second run changes nothing', async () => {
      const r = await run('pinned');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('kubernetes packages: changed: /etc/apt/sources.list.d/kubernetes.list');
      expect(await calls('pinned')).toEqual([]);
      expect((await group.host('pinned').exec('test -e /etc/apt/keyrings/kubernetes-apt-keyring.gpg || echo no key')).stdout).toBe('no key\n');
      const again = await run('pinned');
      expect(again.stdout.trim()).toBe('kubernetes packages: nothing to change');
    });

    it('at the pinned minor, not held: held (real apt-mark), still nothing fetched', async () => {
      const r = await run('unheld');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('held: kubelet kubeadm kubectl');
      expect(await calls('unheld')).toEqual([]);
      expect((await group.host('unheld').exec('apt-mark showhold')).stdout.split('\n').filter(Boolean).sort()).toEqual(PACKAGES);
    });

    it('on another minor: the key fetched (none there), the lists updated, the pinned minor installed (downgrades allowed) and held again', async () => {
      const r = await run('oldminor');
      expect(r.code, r.stderr).toBe(0);
      expect(await calls('oldminor')).toEqual(INSTALL_135);
      // the key as apt reads it: the download, dearmored by the real gpg
      const dearmored = spawnSync('gpg', ['--dearmor'], { input: readFileSync(SOME_KEY) }).stdout;
      expect((await group.host('oldminor').exec('sha256sum < /etc/apt/keyrings/kubernetes-apt-keyring.gpg')).stdout.split(' ')[0]).toBe(createHash('sha256').update(dearmored).digest('hex'));
      expect(r.stdout).toContain('packages: kubelet kubeadm kubectl');
    });

    it('a lab pinning a patch (1.35.2) with 1.35.0 installed: that patch installed', async () => {
      const r = await run('patch');
      expect(r.code, r.stderr).toBe(0);
      expect((await calls('patch')).slice(1)).toEqual(['apt-get update -q', 'apt-get install -y -q --allow-downgrades kubelet=1.35.2-* kubeadm=1.35.2-* kubectl=1.35.2-*']);
    });

    it('not installed: fetched, installed, held; then a run changes nothing and fetches nothing', async () => {
      const r = await run('none');
      expect(r.code, r.stderr).toBe(0);
      expect(await calls('none')).toEqual(INSTALL_135);
      expect(r.stdout).toContain('held: kubelet kubeadm kubectl');
      const again = await run('none');
      expect(again.stdout.trim()).toBe('kubernetes packages: nothing to change');
      expect(await calls('none')).toEqual([]);
    });
  },
);
