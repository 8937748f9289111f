/**
 * An existing host's data disk (cluster.controlPlane.disk, cluster.workers.hosts[].disk): the
 * storage Pi's labgen-prepare-disk, rendered for containerd's and the kubelet's data, run for real
 * on disk IMAGE FILES in a test host (its own root: its /etc/fstab is the host's; no loop device,
 * no real disk of this machine is touched). It refuses an image with a partition table and the
 * disk holding / (the test sources the script and answers its root_disks() with the image, as
 * test/pi/storage.test.ts does), and makes one GPT partition over the whole disk, ext4 labelled
 * labgen-data, with the fstab block that mounts it and binds /var/lib/containerd and
 * /var/lib/kubelet from it, which the real fstab parser reads. shellcheck reads both renderings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { plan } from '../../generator/plan/index.js';
import { FIXED_SECRETS, loadLabWith } from '../support/generated.js';
import { diskImage } from '../support/disk-image.js';
import { describeE2e } from '../support/prereq.js';
import { startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';

const IMG = '/var/tmp/labgen-data.img';
const SCRIPT = '/usr/local/sbin/labgen-prepare-disk';
const PATH = 'provision/files/usr/local/sbin/labgen-prepare-disk';
const lab = loadLabWith('labs/existing/lab.yaml', {});
const files = plan(lab, FIXED_SECRETS);
const script = files.find((f) => f.path === PATH)!;

it('a lab whose hosts have a disk plans labgen-prepare-disk into provision/, and common.sh names each host\'s disk; one without disks plans none', () => {
  expect(script.mode).toBe(0o755);
  const common = files.find((f) => f.path === 'provision/common.sh')!.contents;
  for (const h of ['k8s-cp', 'k8s-w1', 'k8s-w2']) expect(common).toContain(`  ${h}) data_disk=/dev/vdb ;;`);
  const none = loadLabWith('labs/existing/lab.yaml', { cluster: { controlPlane: { disk: undefined }, workers: { hosts: [{ name: 'k8s-w1', ip: '10.20.0.11' }] } } });
  const planned = plan(none, FIXED_SECRETS);
  expect(planned.some((f) => f.path === PATH)).toBe(false);
  expect(planned.find((f) => f.path === 'provision/common.sh')!.contents).not.toContain('data_disk');
});

describeE2e('labgen-prepare-disk for a host\'s data disk: real shellcheck', { commands: ['shellcheck'] }, () => {
  it('passes shellcheck -S warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labgen-data-disk-'));
    try {
      writeFileSync(join(dir, 'labgen-prepare-disk'), script.contents);
      const r = spawnSync('shellcheck', ['-S', 'warning', '-f', 'gcc', join(dir, 'labgen-prepare-disk')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeE2e(
  "labgen-prepare-disk for a host's data disk, for real on disk image files",
  { root: true, commands: ['sfdisk', 'partx', 'wipefs', 'mkfs.ext4', 'blkid', 'debugfs', 'findmnt', 'lsblk', 'ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'tar'] },
  () => {
    let group: TestHostGroup | undefined;
    let host: TestHost;
    beforeAll(async () => {
      group = await startHosts(1, { names: ['k8s-w1'] });
      host = group.hosts[0]!;
      await host.writeFile(SCRIPT, { content: script.contents, mode: 0o755 });
    }, 60_000);
    afterAll(async () => {
      await group?.stopAll();
    });

    const { sh, newImage, sha } = diskImage(() => host, IMG);

    it('refuses a disk that has partitions, and leaves it alone', async () => {
      await newImage(64);
      await sh(`printf 'label: gpt\\nsize=10MiB\\n' | sfdisk -q ${IMG}`);
      const before = await sha();
      const r = await host.exec(`timeout 60 ${SCRIPT} --disk ${IMG}`);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toMatch(/already has a partition table or a filesystem \(gpt at /);
      expect(await sha()).toBe(before);
    });

    it('refuses the disk that holds / (root_disks answered with the image), naming where lab.yaml sets it', async () => {
      await newImage(64);
      const before = await sha();
      const r = await host.exec(`timeout 60 bash -c 'source ${SCRIPT}; root_disks() { echo ${IMG}; }; main --disk ${IMG}'`);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toContain("holds / (the running system): refusing to touch it, with or without --wipe. Point the host's disk (cluster.controlPlane.disk, cluster.workers.hosts[].disk) in lab.yaml at the data disk");
      expect(await sha()).toBe(before);
    });

    it('an empty disk: one GPT partition over all of it, ext4 labelled labgen-data owned by root, fstab mounting it and binding containerd\'s and the kubelet\'s folders', async () => {
      await newImage(64);
      const fstabBefore = await host.readFile('/etc/fstab').catch(() => '');
      const r = await host.exec(`timeout 60 ${SCRIPT} --disk ${IMG}`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const pt = JSON.parse(await sh(`sfdisk -J ${IMG}`)).partitiontable;
      expect(pt.label).toBe('gpt');
      expect(pt.partitions).toHaveLength(1);
      const p = pt.partitions[0];
      // the rest of the disk: all of it but GPT's two copies of the table (and alignment)
      expect(p.size * 512).toBeGreaterThan(60 * 1024 * 1024);
      const probe = await sh(`blkid -p -O ${p.start * 512} -o export ${IMG}`);
      expect(probe).toMatch(/^TYPE=ext4$/m);
      expect(probe).toMatch(/^LABEL=labgen-data$/m);
      // containerd and the kubelet run as root: the filesystem's top folder is root's (not nobody's, as an NFS export's)
      expect(await sh(`debugfs -R 'stat /' '${IMG}?offset=${p.start * 512}' 2>/dev/null`)).toMatch(/User:\s+0\s+Group:\s+0/);
      const fstab = await host.readFile('/etc/fstab');
      expect(fstab.slice(fstabBefore.length)).toBe(
        [
          '# BEGIN labgen data',
          "# The stacklab lab's data disk, written by labgen-prepare-disk; it replaces this block when it runs again.",
          'LABEL=labgen-data /var/lib/labgen-data ext4 defaults,nofail 0 2',
          '/var/lib/labgen-data/containerd /var/lib/containerd none bind,nofail 0 0',
          '/var/lib/labgen-data/kubelet /var/lib/kubelet none bind,nofail 0 0',
          '# END labgen data',
          '',
        ].join('\n'),
      );
      const verify = await host.exec('findmnt --verify --tab-file /etc/fstab 2>&1');
      expect(verify.stdout).toMatch(/^0 parse errors, \d+ errors?, \d+ warnings?$/m);
    });
  },
);
