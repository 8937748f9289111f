/**
 * Host keys and the read-only paths of labgen push, against real sshd on 2 test hosts, as root.
 * pi1 holds the host key labgen made for it (as its image would); pi2 kept a key of its own,
 * so to the lab it is a machine with a changed key, then (its pin removed) an unknown one.
 * systemctl and nmcli are test-host stand-ins (test/push/support.ts): no systemd here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fingerprint } from '../../drivers/base/known-hosts.js';
import { describeE2e } from '../support/prereq.js';
import { REPO_ROOT } from '../support/generated.js';
import { startHosts, type TestHostGroup } from '../support/test-hosts.js';
import { byHost, labOnHosts, type LabOnHosts, labYaml, push, remoteFile, STANDINS, writeLab } from './support.js';
import { STATE_FILE } from '../../generator/common/layout.js';

const blobOf = (publicLine: string) => Buffer.from(publicLine.trim().split(/\s+/)[1]!, 'base64');

describeE2e(
  'labgen push: host keys, dry run, the CLI (systemctl and nmcli are test-host stand-ins: no systemd here)',
  { root: true, commands: ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'tar', 'sha256sum', 'setsid', 'dpkg-query', 'ssh-keyscan'] },
  () => {
    let group: TestHostGroup;
    let lab: LabOnHosts;
    let knownHosts = '';

    beforeAll(async () => {
      group = await startHosts(2, { files: STANDINS });
      lab = await labOnHosts(group, 'root', { pi1: [], pi2: [] }, ['pi1']);
      knownHosts = join(lab.dir, '.labgen/known_hosts');
    }, 60_000);
    afterAll(async () => {
      await group?.stopAll();
      await lab?.cleanup();
    });

    it('generate pinned each Pi’s own host key under its name and address', () => {
      const text = readFileSync(knownHosts, 'utf8');
      for (const h of group.hosts) {
        const pub = readFileSync(join(lab.dir, `.labgen/secrets/hostkeys/${h.name}/ssh_host_ed25519_key.pub`), 'utf8');
        expect(text).toContain(`${h.name},${h.ip} ${pub.split(' ').slice(0, 2).join(' ')}\n`);
      }
    });

    it('--dry-run lists per Pi what would change, connects read-only and writes nothing', async () => {
      const before = readFileSync(knownHosts, 'utf8');
      const r = await push(lab.labFile, ['pi1'], { dryRun: true });
      expect(r.code, r.err).toBe(0);
      const pi1 = group.host('pi1');
      expect(r.out).toContain(`pi1 (${pi1.ip}): `);
      expect(r.out).toMatch(/^ {2}\+ \/var\/lib\/labgen\/setup\.sh$/m);
      expect(r.out).toMatch(/^ {2}~ \/etc\/hosts \(content\)$/m);
      expect(r.out).toContain(`  would run: network cut-over ${pi1.ip} → ${pi1.ip}, setup.sh`);
      expect(r.out).toContain('dry run: 1 of 1 Pi(s) would change; nothing was written');
      expect((await pi1.exec('[ -e /var/lib/labgen ]')).code, 'nothing on the Pi').not.toBe(0);
      expect(existsSync(join(lab.dir, STATE_FILE))).toBe(false);
      expect(readFileSync(knownHosts, 'utf8')).toBe(before);
    });

    it('a Pi with another key is refused with both fingerprints, nothing is written there; the other Pi is pushed', async () => {
      const pi2 = group.host('pi2');
      const hostsBefore = await remoteFile(pi2, '/etc/hosts');
      const pinned = fingerprint(blobOf(readFileSync(join(lab.dir, '.labgen/secrets/hostkeys/pi2/ssh_host_ed25519_key.pub'), 'utf8')));
      const presented = fingerprint(blobOf(pi2.hostKey));
      const r = await push(lab.labFile);
      expect(r.code).toBe(1);
      expect(byHost(r).get('pi1')!.ok).toBe(true);
      expect(r.err).toContain(`  pi2: failed at host key: host key of pi2 (${pi2.ip}) has CHANGED: it presented ${presented}, the lab pinned ssh-ed25519 ${pinned}; refused`);
      expect((await pi2.exec('[ -e /var/lib/labgen ]')).code, 'nothing written on pi2').not.toBe(0);
      expect(await remoteFile(pi2, '/etc/hosts')).toBe(hostsBefore);
      expect(pi2.log()).not.toMatch(/Accepted publickey/); // refused before logging in

      const trusting = await push(lab.labFile, ['pi2'], { trustNew: true });
      expect(trusting.code, '--trust-new never accepts a changed key').toBe(1);
      expect(trusting.err).toContain('has CHANGED');
    });

    it('an unknown Pi is refused unless --trust-new, which prints its fingerprint and records it like accept-new', async () => {
      const pi2 = group.host('pi2');
      const presented = fingerprint(blobOf(pi2.hostKey));
      const text = readFileSync(knownHosts, 'utf8');
      writeFileSync(knownHosts, text.split('\n').filter((l) => !l.startsWith('pi2,')).join('\n'));

      const refused = await push(lab.labFile, ['pi2']);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`host key of pi2 (${pi2.ip}) is not known: it presented ${presented}; refused`);
      expect((await pi2.exec('[ -e /var/lib/labgen ]')).code).not.toBe(0);

      const trusted = await push(lab.labFile, ['pi2'], { trustNew: true });
      expect(trusted.code, trusted.err).toBe(0);
      expect(trusted.out).toContain(`pi2: new host key ${presented} recorded for pi2 and ${pi2.ip}`);
      expect(readFileSync(knownHosts, 'utf8')).toContain(`pi2,${pi2.ip} ${pi2.hostKey}\n`);

      const again = await push(lab.labFile, ['pi2']);
      expect(again.code, again.err).toBe(0);
      expect([byHost(again).get('pi2')!.uploaded.length, byHost(again).get('pi2')!.handlers.length]).toEqual([0, 0]);
    });

    it('a failing step names the Pi, the command, its exit code and the tail of stderr; the next push runs what is still owed', async () => {
      const pi1 = group.host('pi1');
      expect((await push(lab.labFile, ['pi1'])).code, 'pi1 in sync first').toBe(0);
      // the Pi, not the lab, is wrong for a while: it claims another release, so setup.sh refuses
      await pi1.exec("sed -i 's/^VERSION_CODENAME=.*/VERSION_CODENAME=bullseye/' /etc/os-release");
      await writeLab(lab.labFile, labYaml(group, 'root', { pi1: ['aptcache'], pi2: [] }));
      const r = await push(lab.labFile, ['pi1']);
      expect(r.code, r.out).toBe(1);
      expect(r.err).toContain(`pi1 (${pi1.ip}): failed at setup.sh: \`bash /var/lib/labgen/setup.sh\` exited 2`);
      expect(r.err).toContain("    setup (pi1): this Pi runs 'bullseye', but lab.yaml says bookworm (pis.os)");

      await pi1.exec("sed -i 's/^VERSION_CODENAME=.*/VERSION_CODENAME=bookworm/' /etc/os-release");
      const again = await push(lab.labFile, ['pi1']);
      expect(again.code, again.err).toBe(0);
      // nothing to upload any more, but setup.sh never finished and the restart was owed: setup.sh
      // started apt-cacher-ng after its files were placed, so the owed restart is not needed any more
      expect(byHost(again).get('pi1')!.uploaded).toEqual([]);
      expect(byHost(again).get('pi1')!.handlers).toEqual(['setup.sh']);
      expect(again.out).toContain('pi1: not restarted again, started since its files were placed: apt-cacher-ng');
      expect(again.out).toMatch(/^pi1: setup\.sh: .*started [^;]*\bapt-cacher-ng\b/m);
      // and it is owed no more
      expect((await push(lab.labFile, ['pi1'])).results[0]!.handlers).toEqual([]);
    });

    it('the built CLI: `labgen push` and `labgen status` by a script, plain lines on a pipe', () => {
      const cli = resolve(REPO_ROOT, 'dist/bin/labgen.js');
      expect(existsSync(cli), 'build first: npm run build').toBe(true);
      const pushRun = spawnSync(process.execPath, [cli, 'push', '--lab', lab.labFile, '--concurrency', '2'], { encoding: 'utf8' });
      expect(pushRun.status, pushRun.stderr).toBe(0);
      expect(pushRun.stdout).toMatch(/^pi1: pushing$/m);
      expect(pushRun.stdout).toMatch(/^pushed: 2 Pi\(s\), [01] changed$/m); // pi2 gets the apt proxy of the test above
      const statusRun = spawnSync(process.execPath, [cli, 'status', '--lab', lab.labFile], { encoding: 'utf8' });
      expect(statusRun.status, statusRun.stdout + statusRun.stderr).toBe(0);
      expect(statusRun.stdout).toMatch(/^host +address +reachable +host key +files +services +result$/m);
      const bad = spawnSync(process.execPath, [cli, 'push', 'nope', '--lab', lab.labFile], { encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('labgen: not a Pi of this lab: nope');
    });
  },
);
