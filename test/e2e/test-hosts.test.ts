/**
 * The test-host helper itself: three simulated Pis with real sshd, reached
 * with the real OpenSSH client and strict host key checking.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2e } from '../support/prereq.js';
import { generateKeyPair, run, startHosts, type TestHostGroup } from '../support/test-hosts.js';

describeE2e(
  'test hosts: 3 netns hosts with real sshd',
  { root: true, commands: ['ip', 'sshd', 'ssh', 'ssh-keygen', 'unshare', 'nsenter', 'setpriv', 'tar'] },
  () => {
    let tmp = '';
    let group: TestHostGroup | undefined;
    let clientKey = '';
    let knownHosts = '';
    let pinnedHostKey = '';

    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'labgen-test-hosts-test-'));
      const client = await generateKeyPair(tmp, 'id_ed25519', 'labgen-test-client');
      clientKey = client.privateKeyPath;
      // pin pi1's host key; pi2 and pi3 get fresh ones from the helper
      const pinned = await generateKeyPair(join(tmp, 'pinned'), 'ssh_host_ed25519_key', 'root@pi1');
      pinnedHostKey = pinned.publicKey;
      group = await startHosts(3, {
        authorizedKey: client.publicKey,
        hostKeys: { pi1: pinned.privateKey },
        files: (h) => ({ '/etc/labgen-test-host': `${h.name} ${h.ip}\n` }),
      });
      knownHosts = join(tmp, 'known_hosts');
      await writeFile(knownHosts, group.knownHosts());
    });

    afterAll(async () => {
      await group?.stopAll();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    /** Real ssh client, strict host key checking against `known`, key-only, no user/system config. */
    function ssh(ip: string, cmd: string, known = knownHosts, extra: string[] = []) {
      return run('ssh', [
        '-F', '/dev/null',
        '-i', clientKey,
        '-o', 'IdentitiesOnly=yes',
        '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', `UserKnownHostsFile=${known}`,
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', 'ConnectTimeout=5',
        ...extra,
        `root@${ip}`,
        cmd,
      ]);
    }

    it('ssh root@<ip> hostname prints each host name', async () => {
      const hosts = group!.hosts;
      expect(hosts.map((h) => h.name)).toEqual(['pi1', 'pi2', 'pi3']);
      const results = await Promise.all(hosts.map((h) => ssh(h.ip, 'hostname')));
      results.forEach((r, i) => {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe(hosts[i]!.name);
      });
    });

    it('installs pinned host keys, extra files and its own hostname', async () => {
      const [pi1, pi2] = group!.hosts;
      expect(pi1!.hostKey).toBe(pinnedHostKey.split(' ').slice(0, 2).join(' '));
      expect(pi2!.hostKey).toMatch(/^ssh-ed25519 \S+$/);
      expect(pi2!.hostKey).not.toBe(pi1!.hostKey);
      expect(await pi2!.readFile('/etc/labgen-test-host')).toBe(`pi2 ${pi2!.ip}\n`);
      const r = await pi2!.exec('hostname; cat /etc/hostname /proc/1/comm');
      // hostname from its UTS namespace, /etc from its own root, sshd as PID 1 of its own PID namespace
      expect([r.stdout, r.code]).toEqual(['pi2\npi2\nsshd\n', 0]);
    });

    it('a file written over ssh on pi1 lands in pi1 only', async () => {
      const [pi1, pi2] = group!.hosts;
      const path = `/etc/labgen-probe-${process.pid}`;
      const w = await ssh(pi1!.ip, `echo written-on-pi1 > ${path}`);
      expect(w.code).toBe(0);
      expect(await pi1!.readFile(path)).toBe('written-on-pi1\n');
      expect((await pi1!.exec(`cat ${path}`)).stdout).toBe('written-on-pi1\n');
      expect(existsSync(path)).toBe(false); // the machine's own /etc is untouched
      expect((await pi2!.exec(`test -e ${path}`)).code).toBe(1);
      expect((await ssh(pi2!.ip, `test -e ${path}`)).code).toBe(1);
    });

    it('ssh refuses a host whose key does not match known_hosts', async () => {
      const pi1 = group!.hosts[0]!;
      const wrong = await generateKeyPair(join(tmp, 'wrong'), 'key', 'impostor');
      const wrongKnownHosts = join(tmp, 'wrong_known_hosts');
      await writeFile(wrongKnownHosts, `${pi1.ip} ${wrong.publicKey}\n`);
      const r = await ssh(pi1.ip, 'hostname', wrongKnownHosts);
      expect(r.code).toBe(255);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    });

    it('offers public key login only (no passwords)', async () => {
      const r = await ssh(group!.hosts[1]!.ip, 'true', knownHosts, ['-o', 'PreferredAuthentications=password,keyboard-interactive']);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    });

    it('stopAll leaves no process, namespace, link or temp dir behind', async () => {
      const g = group!;
      const inHost = await g.hosts[0]!.exec('sleep 600 >/dev/null 2>&1 & echo started');
      expect(inHost.stdout.trim()).toBe('started');
      // every process in the hosts' network namespaces: sshd, the sleep above
      const pids = [...g.hosts.map((h) => h.pid)];
      for (const h of g.hosts) {
        pids.push(...(await run('ip', ['netns', 'pids', h.netns])).stdout.split(/\s+/).filter(Boolean).map(Number));
      }
      expect(pids.length).toBeGreaterThanOrEqual(4);
      await Promise.all([g.stopAll(), g.stopAll()]); // idempotent, also concurrently
      await g.stopAll();

      expect(pids.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
      const netns = (await run('ip', ['netns', 'list'])).stdout;
      for (const h of g.hosts) expect(netns).not.toContain(h.netns);
      const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
      for (const name of [g.bridge, ...g.hosts.map((h) => h.veth)]) expect(links).not.toMatch(new RegExp(`: ${name}[:@]`));
      expect(existsSync(g.dir)).toBe(false);
      // nor the setpriv/nsenter/unshare wrapper, whose arguments name the group's dir
      const ps = (await run('ps', ['-eo', 'pid=,args='])).stdout;
      expect(ps).not.toContain(g.dir);
      await expect(g.hosts[0]!.exec('true')).rejects.toThrow(/not running/);
    });
  },
);
