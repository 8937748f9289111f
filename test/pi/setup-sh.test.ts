/**
 * pis/<node>/setup.sh run for real on test hosts (network namespaces with their own root, see
 * test/support/test-hosts.ts). No systemd runs as PID 1 here, so `systemctl` and `nmcli` are
 * test-host stand-ins that record what they are asked; everything else (dpkg, install, cmp,
 * stat, users) is the host's real system.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setupSummary } from '../../drivers/push/handlers.js';
import { validateLab } from '../../generator/model/load.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import { plan } from '../../generator/plan/index.js';
import { FIXED_SECRETS } from '../support/fixed-secrets.js';
import { describeE2e } from '../support/prereq.js';
import { NMCLI_RECORDER, SYSTEMCTL } from '../support/standins.js';
import { startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';

const RUN = 'PATH=/usr/local/sbin:/usr/local/bin:$PATH bash';

function labOn(group: TestHostGroup, os = 'bookworm') {
  const [pi1, pi2] = group.hosts;
  const base = group.subnet.replace(/\.0\/24$/, '');
  return validateLab({
    version: 1,
    name: 'testlab',
    domain: 'test.lab',
    network: { subnet: group.subnet, gateway: group.bridgeIp },
    cluster: { controlPlane: { name: 'cp', ip: `${base}.200` }, workers: { count: 0 } },
    pis: {
      os,
      nodes: [
        { name: pi1!.name, ip: pi1!.ip, roles: ['storage', 'aptcache', 'compute'] },
        { name: pi2!.name, ip: pi2!.ip, roles: ['compute'] },
      ],
    },
    storage: { disk: '/dev/sdz', exports: [{ name: 'vol1', size: '1G' }] },
    services: { metallb: { addresses: [`${base}.100-${base}.120`] }, coredns: { ip: `${base}.100` } },
    slurm: { controller: pi1!.name, nodes: [pi1!.name, pi2!.name] },
  });
}

/** Copy a Pi's folder (setup.sh, rootfs/, boot/) and its secrets to /var/lib/labgen on the host. */
async function deliver(host: TestHost, files: FileSpec[]) {
  const prefix = `pis/${host.name}/`;
  for (const f of files.filter((x) => x.path.startsWith(prefix)))
    await host.writeFile(`/var/lib/labgen/${f.path.slice(prefix.length)}`, { content: f.contents, mode: f.mode });
  await host.writeFile('/var/lib/labgen/secrets/munge.key', { content: Buffer.from(FIXED_SECRETS.mungeKey, 'base64'), mode: 0o600 });
}

/** setup.sh installs these; the hosts' lower layer is this machine, where .ci/run installed them. */
const PACKAGES_ON_MACHINE = ['prometheus-node-exporter', 'apt-cacher-ng', 'nfs-kernel-server', 'slurmd', 'slurmctld', 'munge'];

describeE2e(
  'setup.sh on test hosts (systemctl and nmcli are test-host stand-ins: no systemd here)',
  { root: true, commands: ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'tar', 'dpkg-query'] },
  () => {
    let group: TestHostGroup;
    let files: FileSpec[];

    beforeAll(async () => {
      group = await startHosts(2, {
        files: { '/usr/local/sbin/systemctl': { content: SYSTEMCTL, mode: 0o755 }, '/usr/local/bin/nmcli': { content: NMCLI_RECORDER, mode: 0o755 } },
      });
      files = plan(labOn(group), FIXED_SECRETS);
      for (const h of group.hosts) await deliver(h, files);
    });
    afterAll(async () => group?.stopAll());

    it('the packages setup.sh installs are on this machine, so the hosts need no network', async () => {
      const { stdout } = await group.hosts[0]!.exec(`dpkg-query -W -f='\${Package} \${Status}\\n' ${PACKAGES_ON_MACHINE.join(' ')} 2>&1 || true`);
      for (const p of PACKAGES_ON_MACHINE) expect(stdout, `install ${p} on this machine (.ci/run does)`).toMatch(new RegExp(`^${p} install ok installed$`, 'm'));
    });

    it('places every file with its content, mode and owner; a second run changes nothing', async () => {
      for (const host of group.hosts) {
        const first = await host.exec(`${RUN} /var/lib/labgen/setup.sh`);
        expect(first.code, first.stderr).toBe(0);
        expect(first.stdout).toMatch(new RegExp(`^setup \\(${host.name}\\): changed: .*/etc/hosts`, 'm'));
        // push sums this line up for its report (drivers/push/handlers.ts): the files, then the services
        const report = first.stdout.split('\n').find((l) => l.startsWith(`setup (${host.name}): `))!;
        // (a service restarted for a file it placed is running by the time it is looked at: enabled, not started)
        expect(setupSummary(report)).toMatch(/^setup\.sh: placed \/etc\/[^;]*; enabled [^;]*\bmunge\b[^;]*\bslurmd\b[^;]*; started [^;]*\bprometheus-node-exporter\b[^;]*$/);

        for (const f of files.filter((x) => x.host === host.name && x.target)) {
          const { stdout } = await host.exec(`stat -c '%a %U:%G' ${f.target!.path} && sha256sum < ${f.target!.path}`);
          const [modeOwner, sum] = stdout.trim().split('\n');
          expect(modeOwner, f.target!.path).toBe(`${f.mode.toString(8)} ${f.target!.owner}`);
          expect(sum?.split(' ')[0], f.target!.path).toBe(createHash('sha256').update(f.contents).digest('hex'));
        }

        const before = (await host.exec('cat /var/log/standin.log')).stdout;
        const second = await host.exec(`${RUN} /var/lib/labgen/setup.sh`);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout.trim()).toBe(`setup (${host.name}): nothing to change`);
        expect(setupSummary(second.stdout.trim())).toBe('setup.sh: nothing to change');
        const calls = (await host.exec('cat /var/log/standin.log')).stdout.slice(before.length).split('\n').filter(Boolean);
        expect(calls.filter((c) => !/ is-(enabled|active) /.test(c)), 'the second run only asks, never acts').toEqual([]);
      }
    });

    it('a file changed on the host is placed again, and only that is reported', async () => {
      const host = group.hosts[1]!;
      await host.exec("sed -i 's/^/#/' /etc/hosts; : > /var/log/standin.log");
      const run = await host.exec(`${RUN} /var/lib/labgen/setup.sh`);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.trim()).toBe(`setup (${host.name}): changed: /etc/hosts`);
      expect((await host.exec('cat /etc/hosts')).stdout).toBe(files.find((f) => f.path === `pis/${host.name}/rootfs/etc/hosts`)!.contents);
    });

    it('refuses, with a clear message and exit 2, a Pi whose OS is not the one in lab.yaml', async () => {
      const host = group.hosts[0]!;
      const bullseye = plan(labOn(group, 'bullseye'), FIXED_SECRETS).find((f) => f.path === `pis/${host.name}/setup.sh`)!;
      await host.writeFile('/tmp/setup-bullseye.sh', { content: bullseye.contents, mode: 0o755 });
      const run = await host.exec(`${RUN} /tmp/setup-bullseye.sh`);
      const codename = readFileSync('/etc/os-release', 'utf8').match(/^VERSION_CODENAME=(.*)$/m)?.[1];
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`setup (${host.name}): this Pi runs '${codename}', but lab.yaml says bullseye (pis.os)`);
    });
  },
);
