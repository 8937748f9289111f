/**
 * labgen push and status against real sshd on 3 test hosts (network namespaces with their own
 * root, test/support/test-hosts.ts), as the lab user `pi` with passwordless sudo, the way a
 * Raspberry Pi OS image sets it up. setup.sh runs for real (dpkg, install, users: the host's
 * lower layer is this machine); systemctl and nmcli are test-host stand-ins (test/push/support.ts)
 * because no systemd or NetworkManager runs here — nmcli's `connection up` really moves the
 * host's address inside its namespace, so the cut-over is a real address change.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTargets } from '../../drivers/push/targets.js';
import { describeE2e } from '../support/prereq.js';
import { run, startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';
import { byHost, labOnHosts, type LabOnHosts, labYaml, push, remoteFile, STANDINS, status, uploadedPaths, writeLab } from './support.js';
import { STATE_FILE } from '../../generator/common/layout.js';
import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { retireScript, ROLLBACK_IN_PROGRESS } from '../../drivers/push/cutover.js';
import { CUTOVERS, ORDER, startRollingGuard } from './rolling-guard.js';

const ROLES = { pi1: ['storage', 'aptcache', 'compute'], pi2: ['compute'], pi3: ['compute'] };
const KEYFILE = '/etc/NetworkManager/system-connections/lab-eth0.nmconnection';

/** path → sha256 of every file push manages, per Pi, as the lab folder says now. */
function generated(labFile: string): Map<string, Map<string, string>> {
  return new Map(loadTargets({ lab: labFile }, []).targets.map((t) => [t.node, new Map(t.files.map((f) => [f.path, f.sha256]))]));
}

/** Paths whose generated content differs between two `generated()` pictures, per Pi. */
function changedPaths(before: Map<string, Map<string, string>>, after: Map<string, Map<string, string>>, node: string): string[] {
  const b = before.get(node)!;
  return [...after.get(node)!].filter(([p, sha]) => b.get(p) !== sha).map(([p]) => p).sort();
}

const addresses = async (h: TestHost) => (await run('ip', ['-n', h.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
const lastAddress = (dir: string, node: string) => (JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { nodes: Record<string, { address: string }> }).nodes[node]?.address;

async function eventually(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A wrapper around the real tar on a test host: stalls the upload after its first file until the
 * test has cut the connection (no fixed sleep: it waits for its SSH session's sshd to be gone),
 * then ends the stream there, as a cut connection does.
 */
const TAR_STALL = `#!/bin/sh
# test-host wrapper around the real tar: an upload's tar stream stalls after its first file (header and
# one block of content: 1024 bytes), so the test can cut the connection there; once it is cut (the
# nearest sshd above this process has died) the stream ends: what came after the cut never arrives
session=$$
while [ "$session" -gt 1 ] && [ "$(cat /proc/$session/comm)" != sshd ]; do session=$(awk '/^PPid:/ { print $2 }' /proc/$session/status); done
[ "$session" -gt 1 ] || { echo "tar stand-in: no sshd above me" >&2; exit 1; }
gone() { state=$(awk '{ print $3 }' /proc/$session/stat 2>/dev/null); [ -z "$state" ] || [ "$state" = Z ]; }
{ head -c 1024; touch /tmp/labgen-mid-upload; until gone; do sleep 0.05; done; } | /usr/bin/tar "$@"
`;

describeE2e(
  'labgen push and status on 3 test hosts as a sudo user (systemctl and nmcli are test-host stand-ins: no systemd or NetworkManager here)',
  { root: true, commands: ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'tar', 'sudo', 'useradd', 'head', 'sha256sum', 'setsid', 'dpkg-query', 'ssh-keyscan'] },
  () => {
    let group: TestHostGroup;
    let lab: LabOnHosts;
    let base = '';
    const host = (name: string) => group.host(name);

    beforeAll(async () => {
      group = await startHosts(3, { files: STANDINS });
      base = group.subnet.replace(/\.0\/24$/, '');
      lab = await labOnHosts(group, 'pi', ROLES);
    }, 60_000);
    afterAll(async () => {
      await group?.stopAll();
      await lab?.cleanup();
    });

    it('first push: every file lands with its content, mode and owner; a second push uploads 0 files and runs 0 handlers', async () => {
      const first = await push(lab.labFile);
      expect(first.code, `${first.out}\n${first.err}`).toBe(0);
      for (const t of loadTargets({ lab: lab.labFile }, []).targets) {
        for (const f of t.files) expect(await remoteFile(host(t.node), f.path), `${t.node}:${f.path}`).toBe(`${f.sha256} ${f.mode.toString(8)} ${f.owner}`);
        expect(lastAddress(lab.dir, t.node)).toBe(host(t.node).ip);
        expect(byHost(first).get(t.node)!.handlers).toContain('setup.sh');
      }
      expect(first.out).toMatch(/^host +address +files +handlers +time +result$/m);
      // each Pi is at its lab address already: its new network config is confirmed by the session that uploaded it
      for (const h of group.hosts) expect(first.out).toContain(`${h.name}: network config applied at ${h.ip}, confirmed (same session)`);
      expect(first.out).not.toContain('cut-over: reaching');
      // what setup.sh did, in short (a first run: it placed the munge key, enabled and started the services)
      for (const h of group.hosts) expect(first.out).toMatch(new RegExp(`^${h.name}: setup\\.sh: placed [^;]*/etc/munge/munge\\.key.*; started [^;]*\\bslurmd\\b`, 'm'));

      // one start per change: a service setup.sh started (or restarted) after push placed its
      // files is not restarted by push again (standin.log holds every systemctl call so far)
      for (const t of loadTargets({ lab: lab.labFile }, []).targets) {
        const log = (await host(t.node).exec('cat /var/log/standin.log')).stdout;
        for (const service of t.services) {
          const starts = log.split('\n').filter((l) => new RegExp(`^systemctl (start|restart) (.* )?${service}( |$)`).test(l));
          expect(starts, `${t.node}: ${service}`).toHaveLength(1);
        }
        const r = byHost(first).get(t.node)!;
        expect(r.handlers.filter((h) => h.startsWith('restart ')), t.node).toEqual([]);
        expect(r.notes.join('\n'), t.node).toMatch(/^not restarted again, started since its files were placed: .*\bslurmd\b/m);
      }

      const calls = (h: TestHost) => h.exec('cat /var/log/standin.log').then((r) => r.stdout);
      const before = await Promise.all(group.hosts.map(calls));
      const second = await push(lab.labFile);
      expect(second.code, second.err).toBe(0);
      for (const r of second.results) expect([r.node, r.uploaded.length, r.handlers.length]).toEqual([r.node, 0, 0]);
      expect(await Promise.all(group.hosts.map(calls)), 'no restart, no setup, nothing asked of systemctl or nmcli').toEqual(before);
      expect(second.out).toContain('pushed: 3 Pi(s), 0 changed');
    });

    it("a Pi's new IP: only the changed files are uploaded, to the right Pis, and the cut-over brings pi3 up at its new address", async () => {
      const before = generated(lab.labFile);
      const oldIp = host('pi3').ip;
      const newIp = `${base}.50`;
      await writeLab(lab.labFile, labYaml(group, 'pi', ROLES, { pi3: newIp }));
      const after = generated(lab.labFile);

      const r = await push(lab.labFile);
      expect(r.code, `${r.out}\n${r.err}`).toBe(0);
      for (const node of ['pi1', 'pi2', 'pi3']) expect(uploadedPaths(byHost(r).get(node)), node).toEqual(changedPaths(before, after, node));
      expect(uploadedPaths(byHost(r).get('pi3'))).toContain(KEYFILE);
      expect(uploadedPaths(byHost(r).get('pi1'))).not.toContain(KEYFILE);

      const pi3 = byHost(r).get('pi3')!;
      expect(pi3.handlers[0]).toBe('network cut-over');
      expect(pi3.address).toBe(newIp);
      expect(r.out).toContain(`pi3: network cut-over ${oldIp} → ${newIp} confirmed`);
      expect(r.out).toContain(`pi3: cut-over: reaching ${newIp}`);
      expect(await addresses(host('pi3'))).toContain(`${newIp}/24`);
      expect(await addresses(host('pi3'))).not.toContain(`${oldIp}/`);
      expect(lastAddress(lab.dir, 'pi3')).toBe(newIp);
      const pins = readFileSync(join(lab.dir, '.labgen/known_hosts'), 'utf8');
      expect(pins).toMatch(new RegExp(`^${newIp.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
      // pi3 left its old address: its pin there is gone, its name's pin stays
      expect(pins).not.toMatch(new RegExp(`(^|,)${oldIp.replace(/\./g, '\\.')}[, ]`, 'm'));
      expect(pins).toMatch(/^pi3 ssh-ed25519 /m);

      const again = await push(lab.labFile);
      expect(again.code, again.err).toBe(0);
      expect(again.results.map((x) => x.uploaded.length + x.handlers.length)).toEqual([0, 0, 0]);
    });

    it('a cut-over to an address that cannot work rolls back by itself: pi3 answers at its old address again', async () => {
      const goodIp = `${base}.50`;
      const badIp = `${base}.250`; // taken by this machine on the bridge: the Pi cannot be reached there
      const goodKeyfile = await remoteFile(host('pi3'), KEYFILE);
      // /etc/hosts names pi3's address: it goes with the cut-over, and comes back with the rollback
      const goodHosts = [await remoteFile(host('pi3'), '/etc/hosts'), await remoteFile(host('pi3'), `${PI_STAGE.rootfs}/etc/hosts`)];
      expect((await run('ip', ['addr', 'add', `${badIp}/24`, 'dev', group.bridge])).code).toBe(0);
      try {
        await writeLab(lab.labFile, labYaml(group, 'pi', ROLES, { pi3: badIp }));
        const r = await push(lab.labFile, ['pi3']);
        expect(r.code).toBe(1);
        expect(r.err).toContain('push failed on 1 of 1 Pi(s): pi3');
        expect(r.err).toMatch(new RegExp(`pi3 \\(${goodIp.replace(/\./g, '\\.')}\\): failed at cut-over: network cut-over ${goodIp} → ${badIp} not confirmed: .*rolled back.*answers at ${goodIp} again`));
        expect(await addresses(host('pi3'))).toContain(`${goodIp}/24`);
        expect(await addresses(host('pi3'))).not.toContain(badIp);
        expect(await remoteFile(host('pi3'), KEYFILE), 'the previous keyfile is back').toBe(goodKeyfile);
        expect([await remoteFile(host('pi3'), '/etc/hosts'), await remoteFile(host('pi3'), `${PI_STAGE.rootfs}/etc/hosts`)], 'and the previous /etc/hosts').toEqual(goodHosts);
        // what the Pi rolled back is not reported as placed, and the notes say so
        expect(uploadedPaths(byHost(r).get('pi3'))).not.toContain('/etc/hosts');
        expect(uploadedPaths(byHost(r).get('pi3'))).not.toContain(KEYFILE);
        expect(byHost(r).get('pi3')!.notes.join('\n')).toMatch(/^rolled back, so not in place: .*\/etc\/hosts/m);
        expect(lastAddress(lab.dir, 'pi3')).toBe(goodIp);
      } finally {
        await run('ip', ['addr', 'del', `${badIp}/24`, 'dev', group.bridge]);
        await writeLab(lab.labFile, labYaml(group, 'pi', ROLES, { pi3: goodIp }));
      }
      const back = await push(lab.labFile);
      expect(back.code, back.err).toBe(0);
      expect(byHost(back).get('pi3')!.handlers).not.toContain('network cut-over');
    });

    it('a network config the Pi cannot apply (same address) is rolled back at once, without waiting for the guard', async () => {
      const pi1 = host('pi1');
      await pi1.exec(`echo '# edited by hand' >> ${KEYFILE}`);
      const edited = await remoteFile(pi1, KEYFILE);
      const nmcli = (await pi1.exec('cat /usr/local/bin/nmcli')).stdout;
      await pi1.writeFile('/usr/local/bin/nmcli', { content: '#!/bin/sh\necho "nmcli stand-in: Error: Connection activation failed." >&2\nexit 4\n', mode: 0o755 });
      try {
        const r = await push(lab.labFile, ['pi1']);
        expect(r.code).toBe(1);
        // rolled back at once: only rollBackNow (cutover.ts) says "could not apply …; rolled back, answers at";
        // after waiting for the guard it would say "did not answer within …" and "(guard: …)" (no timing here)
        expect(r.err).toMatch(new RegExp(`pi1 \\(${pi1.ip.replace(/\./g, '\\.')}\\): failed at cut-over: network config at ${pi1.ip.replace(/\./g, '\\.')} not confirmed: the Pi could not apply the new config \\(.*Connection activation failed.*\\); rolled back, answers at ${pi1.ip.replace(/\./g, '\\.')}`));
        expect(r.out + r.err, 'no wait for the guard').not.toMatch(/did not answer within|\(guard: |waiting for the Pi's guard/);
        expect(await remoteFile(pi1, KEYFILE), 'the previous keyfile is back').toBe(edited);
      } finally {
        await pi1.writeFile('/usr/local/bin/nmcli', { content: nmcli, mode: 0o755 });
      }
      const fixed = await push(lab.labFile, ['pi1']);
      expect(fixed.code, fixed.err).toBe(0);
      expect(fixed.out).toContain(`pi1: network config applied at ${pi1.ip}, confirmed (same session)`);
    });

    it('a cut-over retires the guard an earlier one left waiting: its sleeping process is gone (no systemd here: the sleep branch)', async () => {
      const pi1 = host('pi1');
      const guards = async () => (await pi1.exec(`ls ${PI_STAGE.dir}/cutover`)).stdout.split('\n').filter(Boolean);
      /** PIDs of processes on pi1 running the guard of cut-over `token` (the sleep, or what it became) */
      const running = async (token: string) =>
        // "/cutover/$t" is expanded by grep's shell only: that shell's own command line does not match
        (await pi1.exec(`t=${token}; for d in /proc/[0-9]*; do grep -qaF "/cutover/$t" $d/cmdline 2>/dev/null && echo \${d#/proc/}; done; true`)).stdout.split('\n').filter(Boolean);

      await pi1.exec(`echo '# edited by hand' >> ${KEYFILE}`);
      const first = await push(lab.labFile, ['pi1'], { timing: { guardMarginMs: 600_000 } }); // a guard that waits through this test
      expect(first.code, first.err).toBe(0);
      const [token] = await guards();
      expect(token).toBeDefined();
      expect(await running(token!), 'the first guard sleeps').not.toEqual([]);

      await pi1.exec(`echo '# edited by hand again' >> ${KEYFILE}`);
      const second = await push(lab.labFile, ['pi1']);
      expect(second.code, second.err).toBe(0);
      expect(second.out).toContain(`pi1: network config applied at ${pi1.ip}, confirmed (same session)`);
      expect(await running(token!), 'the first guard is gone').toEqual([]);
      const now = await guards();
      expect(now).toHaveLength(1);
      expect(now).not.toContain(token);
    });

    it('an older guard rolling back when a cut-over starts (the sleep branch: its PID): refused after the bound, the guard undisturbed; within it, its folder goes only once the rollback is done', async () => {
      const pi1 = host('pi1');
      const guard = await startRollingGuard(pi1);
      try {
        const refused = await pi1.exec(retireScript(1));
        expect(refused.code).toBe(1);
        expect(refused.stderr.trim()).toBe(
          `${ROLLBACK_IN_PROGRESS}: the guard of an earlier push is putting its network config back (${guard.dir}, still after 1s); nothing of this push was placed: push again once it is done`,
        );
        expect((await pi1.exec(`ls ${CUTOVERS}`)).stdout.split('\n')).toContain('rolling');
        expect(await guard.order()).toEqual([]);

        const retiring = pi1.exec(`${retireScript()} && echo retired >> ${ORDER}`);
        await guard.release();
        const r = await retiring;
        expect(r.code, r.stderr).toBe(0);
        expect(await guard.order(), 'the folder went after the rollback ended, never under it').toEqual(['rolled-back', 'retired']);
        expect((await pi1.exec(`ls -A ${CUTOVERS} 2>/dev/null || true`)).stdout).toBe('');
      } finally {
        await guard.release();
      }
    });

    it('status: all in sync; a file edited on a Pi is reported as drifted (exit 1) until the next push', async () => {
      const ok = await status(lab.labFile);
      expect(ok.code, `${ok.out}\n${ok.err}`).toBe(0);
      expect(ok.out).toMatch(/^pi2 +\S+ +yes +ok +in sync \(\d+\) +\d+ active +ok$/m);

      await host('pi2').exec("echo '# edited by hand' >> /etc/hosts");
      const off = await status(lab.labFile);
      expect(off.code).toBe(1);
      expect(off.out).toContain('pi2: drifted /etc/hosts (content)');
      expect(off.out).toMatch(/^pi2 +\S+ +yes +ok +1 drifted +\d+ active +OFF$/m);
      expect(off.err).toContain('1 of 3 Pi(s) not as generated: pi2');

      const fix = await push(lab.labFile);
      expect(uploadedPaths(byHost(fix).get('pi2'))).toEqual(['/etc/hosts']);
      expect((await status(lab.labFile)).code).toBe(0);
    });

    it('sshd killed mid-upload: no target file is half-written, and the next push completes', async () => {
      const pi2 = host('pi2');
      await pi2.exec("echo '# drift' >> /etc/apt/apt.conf.d/02proxy; echo '# drift' >> /etc/hosts");
      const drifted = [await remoteFile(pi2, '/etc/apt/apt.conf.d/02proxy'), await remoteFile(pi2, '/etc/hosts')];
      await pi2.writeFile('/usr/local/bin/tar', { content: TAR_STALL, mode: 0o755 });

      const pushing = push(lab.labFile, ['pi2']);
      await eventually(async () => (await pi2.exec('[ -e /tmp/labgen-mid-upload ]')).code === 0, 'the upload to stall');
      // every sshd but the listener (PID 1 of the host): the connection's own processes
      await pi2.exec('for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" != 1 ] && [ "$(cat $d/comm 2>/dev/null)" = sshd ] && kill -9 "$p"; done; true');
      const cut = await pushing;
      expect(cut.code).toBe(1);
      expect(byHost(cut).get('pi2')!.failure).toMatchObject({ step: 'upload', code: null });
      expect(cut.err).toMatch(/pi2 \(.*\): failed at upload: `install 2 files \(temp \+ rename\)` lost its connection/);
      // the first file had arrived whole, but nothing is renamed before all have: both are as they were
      expect([await remoteFile(pi2, '/etc/apt/apt.conf.d/02proxy'), await remoteFile(pi2, '/etc/hosts')]).toEqual(drifted);

      await pi2.exec('rm -f /usr/local/bin/tar /tmp/labgen-mid-upload');
      const next = await push(lab.labFile, ['pi2']);
      expect(next.code, next.err).toBe(0);
      expect(uploadedPaths(byHost(next).get('pi2'))).toEqual(['/etc/apt/apt.conf.d/02proxy', '/etc/hosts']);
      const t = loadTargets({ lab: lab.labFile }, ['pi2']).targets[0]!;
      for (const f of t.files) expect(await remoteFile(pi2, f.path), f.path).toBe(`${f.sha256} ${f.mode.toString(8)} ${f.owner}`);
      // the cut-off command found its stdin closed, failed its check and removed its temp files
      await eventually(async () => (await pi2.exec("find /etc -name '.*.labgen-new-*' | grep -q . && exit 1 || exit 0")).code === 0, 'temps to be removed');
    });

    it('one Pi down: the others finish, and exit 1 names it with the step', async () => {
      for (const h of group.hosts) await h.exec("echo '# drift' >> /etc/hosts");
      await host('pi2').stop();
      const r = await push(lab.labFile);
      expect(r.code).toBe(1);
      expect(r.err).toContain('push failed on 1 of 3 Pi(s): pi2');
      expect(r.err).toMatch(/^ {2}pi2: failed at connect: cannot connect to pi2 at /m);
      for (const node of ['pi1', 'pi3']) {
        expect(byHost(r).get(node)!.ok, node).toBe(true);
        expect(uploadedPaths(byHost(r).get(node))).toEqual(['/etc/hosts']);
      }
      const s = await status(lab.labFile);
      expect(s.code).toBe(1);
      expect(s.out).toMatch(/^pi2 +- +no +- /m);
    });
  },
);
