/**
 * The parts of push that run differently where systemd runs, against systemd itself: this
 * machine's systemd 252 as a user-mode manager on a test host, answering root's systemctl and
 * systemd-run at /run/systemd/private (test/push/systemd.ts: no systemd runs as PID 1 here).
 * nmcli is the test-host stand-in (its `connection up` really moves the host's address).
 *
 * - the cut-over's timers (drivers/push/cutover.ts): systemd's default AccuracySec (1min) would
 *   fire them up to a minute late, so each gets a small one; a later cut-over retires the
 *   timers of an earlier one; the guard fires from its timer and rolls back; a guard still
 *   rolling back is waited for before its folder goes, and past the bound the push is refused;
 * - the restart handlers (drivers/push/handlers.ts): a unit setup.sh started after the files
 *   were placed is not restarted again, one it left alone is.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256 } from '../../generator/common/text.js';
import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { KnownHostsFile } from '../../drivers/base/known-hosts.js';
import { connectSsh, type SshRunner } from '../../drivers/base/ssh.js';
import { cutover, type CutoverOptions, type CutoverResult, detached, retireScript, ROLLBACK_IN_PROGRESS, TIMER_ACCURACY, unitDescription } from '../../drivers/push/cutover.js';
import { upload } from '../../drivers/push/upload.js';
import { runHandlers } from '../../drivers/push/handlers.js';
import type { Change } from '../../drivers/push/plan.js';
import { describeE2e } from '../support/prereq.js';
import { NMCLI } from '../support/standins.js';
import { generateKeyPair, run, startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';
import { PI_SSHD } from './support.js';
import { ORDER, oneFile, startRollingGuard } from './rolling-guard.js';
import { startSystemd, stopSystemd, timers, unitProps } from './systemd.js';

/** A cut-over's result for a message: its outcome and why (the confirmed one holds a session). */
const said = (r: CutoverResult) => (r.outcome === 'confirmed' ? r.outcome : `${r.outcome}: ${r.reason}`);

const KEYFILE = '/etc/NetworkManager/system-connections/lab-eth0.nmconnection';
const CUTOVERS = `${PI_STAGE.dir}/cutover`;

/** The network config batch: a keyfile giving eth0 `address` (the nmcli stand-in applies it). */
function keyfile(address: string, note = ''): Change[] {
  const content = Buffer.from(`# test keyfile${note}\n[ipv4]\naddress1=${address}/24\n`);
  return [{ file: { path: KEYFILE, content, sha256: sha256(content), mode: 0o600, owner: 'root:root', role: 'target', restart: [], network: true }, why: ['content'] }];
}

describeE2e(
  'push where systemd runs (systemd 252 itself, as a user-mode manager at /run/systemd/private: no systemd as PID 1 here; nmcli is a test-host stand-in)',
  { root: true, commands: ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'ssh-keygen', 'systemd-run', 'systemctl', 'mount'] },
  () => {
    let group: TestHostGroup | undefined;
    let tmp = '';
    let host: TestHost;
    let knownHosts: KnownHostsFile;
    let privateKey = '';
    let base = '';

    const connect = (address: string, timeoutMs = 5000) =>
      connectSsh({ node: 'pi1', address, user: 'root', privateKey, knownHosts, trustNew: false, record: false, timeoutMs });
    const options = (from: string, to: string, timing: Partial<CutoverOptions> = {}): CutoverOptions => ({
      from,
      to,
      applyNetwork: 'nmcli connection up lab-eth0',
      confirmTimeoutMs: 20_000,
      guardMarginMs: 600_000, // waits through the test: it is retired, or decided, never fired
      rollbackWaitMs: 20_000,
      connect,
      step: () => {},
      ...timing,
    });
    const addresses = async () => (await run('ip', ['-n', host.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
    const folders = async () => (await host.exec(`ls ${CUTOVERS} 2>/dev/null`)).stdout.split('\n').filter(Boolean).sort();

    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'labgen-push-systemd-'));
      const key = await generateKeyPair(tmp, 'lab');
      privateKey = key.privateKey;
      group = await startHosts(1, {
        names: ['pi1'],
        authorizedKey: key.publicKey,
        files: { '/usr/local/bin/nmcli': { content: NMCLI, mode: 0o755 }, '/etc/ssh/sshd_config.d/00-labgen-test-host.conf': PI_SSHD },
      });
      host = group.host('pi1');
      base = group.subnet.replace(/\.0\/24$/, '');
      const file = join(tmp, 'known_hosts');
      await writeFile(file, `pi1,${host.ip} ${host.hostKey}\n`);
      knownHosts = new KnownHostsFile(file);
      await startSystemd(host);
    }, 60_000);

    afterAll(async () => {
      await group?.stopAll();
      if (group) await stopSystemd(group.host('pi1'));
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    it(`every timer labgen starts has AccuracySec=${TIMER_ACCURACY} (systemd's default, 1min, fires up to a minute late), under its given name and a one-line description; retireScript stops them`, async () => {
      const dir = `${CUTOVERS}/probe`;
      const started = await host.exec(`mkdir -p ${dir} && ${detached('labgen-apply-probe', 600_000, 'true', dir, `${dir}/log`)}`);
      expect(started.code, started.stderr).toBe(0);
      expect(await unitProps(host, 'labgen-apply-probe.timer', ['AccuracyUSec', 'ActiveState', 'Description'])).toEqual({
        AccuracyUSec: TIMER_ACCURACY,
        ActiveState: 'active',
        Description: unitDescription('labgen-apply-probe'),
      });
      // the sleep branch's stand-in is not taken where systemd runs
      expect((await host.exec(`[ ! -e ${dir}/pids ]`)).code).toBe(0);

      const retired = await host.exec(retireScript());
      expect(retired.code, retired.stderr).toBe(0);
      expect(await unitProps(host, 'labgen-apply-probe.timer', ['LoadState'])).toEqual({ LoadState: 'not-found' });
      expect(await folders()).toEqual([]);
    });

    it('same address: the cut-over confirms; a second one retires the first guard (its timer stopped, its folder gone) and waits with its own', async () => {
      const remote = await connect(host.ip);
      const first = await cutover(remote, keyfile(host.ip), options(host.ip, host.ip));
      expect(first.outcome, said(first)).toBe('confirmed');
      const [firstFolder] = await folders();
      const firstGuard = `labgen-guard-${firstFolder}.timer`;
      expect(await timers(host, 'labgen-')).toEqual([firstGuard]);
      expect(await unitProps(host, firstGuard, ['AccuracyUSec', 'ActiveState'])).toEqual({ AccuracyUSec: TIMER_ACCURACY, ActiveState: 'active' });

      const again = first.outcome === 'confirmed' ? first.remote : await connect(host.ip);
      const second = await cutover(again, keyfile(host.ip, ' (again)'), options(host.ip, host.ip));
      expect(second.outcome, said(second)).toBe('confirmed');
      if (second.outcome === 'confirmed') second.remote.close();
      const [secondFolder, ...more] = await folders();
      expect(more).toEqual([]);
      expect(secondFolder).not.toBe(firstFolder);
      // the first guard can never fire: its timer is gone, not just its folder
      expect(await unitProps(host, firstGuard, ['LoadState'])).toEqual({ LoadState: 'not-found' });
      expect(await timers(host, 'labgen-')).toEqual([`labgen-guard-${secondFolder}.timer`]);
    });

    it('a new address that cannot be reached: the guard fires from its systemd timer and the Pi is back at its address', async () => {
      const badIp = `${base}.250`; // taken by this machine on the bridge: the Pi cannot be reached there
      const before = await host.exec(`sha256sum < ${KEYFILE}`);
      expect((await run('ip', ['addr', 'add', `${badIp}/24`, 'dev', group!.bridge])).code).toBe(0);
      let remote: SshRunner | undefined;
      try {
        remote = await connect(host.ip);
        const r = await cutover(remote, keyfile(badIp), options(host.ip, badIp, { confirmTimeoutMs: 3000, guardMarginMs: 2000 }));
        expect(r.outcome, said(r)).toBe('rolled-back');
        expect(r.outcome === 'rolled-back' && r.reason).toMatch(/rolled back \(guard: rolled-back\)/);
        expect(await addresses()).toContain(`${host.ip}/24`);
        expect(await addresses()).not.toContain(badIp);
        expect((await host.exec(`sha256sum < ${KEYFILE}`)).stdout).toBe(before.stdout);
        expect(await timers(host, 'labgen-')).toEqual([]); // fired, and collected
      } finally {
        remote?.close();
        await run('ip', ['addr', 'del', `${badIp}/24`, 'dev', group!.bridge]);
      }
    }, 60_000);

    it('an older guard rolling back (its systemd service running) when a cut-over starts: refused after the bound, nothing placed, the guard undisturbed; within it, its folder goes only once the rollback is done', async () => {
      const guard = await startRollingGuard(host);
      const service = 'labgen-guard-rolling.service';
      try {
        expect(await unitProps(host, service, ['ActiveState'])).toEqual({ ActiveState: 'active' });
        // the new cut-over's upload, as cutover() runs it (retireScript before anything is placed), with a bound of 1 s
        const next = '/tmp/labgen-next.conf';
        const remote = await connect(host.ip);
        const refused = await upload(remote, oneFile(next, 'next config\n').map((c) => c.file), { beforePlace: retireScript(1) }, 'cut-over').then(
          () => undefined,
          (e: Error) => e,
        );
        remote.close();
        expect(refused?.message).toContain(`${ROLLBACK_IN_PROGRESS}: the guard of an earlier push is putting its network config back (${guard.dir}, still after 1s); nothing of this push was placed`);
        expect((await host.exec(`ls -A /tmp | grep labgen-next || echo none`)).stdout.trim(), 'no file and no temp of it').toBe('none');
        expect(await folders()).toContain('rolling');
        expect(await unitProps(host, service, ['ActiveState'])).toEqual({ ActiveState: 'active' });

        const retiring = host.exec(`${retireScript()} && echo retired >> ${ORDER}`);
        await guard.release();
        const r = await retiring;
        expect(r.code, r.stderr).toBe(0);
        expect(await guard.order(), 'the folder went after the rollback ended, never under it').toEqual(['rolled-back', 'retired']);
        expect(await folders()).toEqual([]);
      } finally {
        await guard.release();
      }
    });

    it('restart handlers: a unit setup.sh started after the files were placed is not restarted again; a unit it left alone is', async () => {
      const unit = 'labgen-probe';
      await host.writeFile(`/etc/systemd/user/${unit}.service`, `[Service]\nExecStart=/bin/sh -c 'echo start >> /tmp/${unit}.starts; exec sleep 3600'\n`);
      // setup.sh as far as this test goes: it starts the unit (ensure_running does, for a unit just installed)
      await host.writeFile(PI_STAGE.setup, { content: `#!/bin/bash\nsystemctl start ${unit}\necho 'setup (pi1): changed: started ${unit}'\n`, mode: 0o755 });
      expect((await host.exec('systemctl daemon-reload')).code).toBe(0);
      const starts = async () => (await host.exec(`cat /tmp/${unit}.starts 2>/dev/null`)).stdout.split('\n').filter(Boolean).length;
      const remote = await connect(host.ip);
      try {
        const seen = { done: [] as string[], skipped: [] as string[], reports: [] as string[] };
        const on = { started: () => {}, done: (id: string) => seen.done.push(id), skipped: (id: string) => seen.skipped.push(id), setupReport: (l: string) => seen.reports.push(l) };
        await runHandlers(remote, [{ kind: 'setup' }, { kind: 'restart', service: unit }], 'stamp-1', on);
        expect(await starts(), 'setup.sh started it; no restart after').toBe(1);
        expect(seen).toEqual({ done: ['setup.sh'], skipped: [`restart ${unit}`], reports: [`setup (pi1): changed: started ${unit}`] });

        // running before setup.sh, which leaves it alone: the restart is needed and runs
        await host.writeFile(PI_STAGE.setup, { content: `#!/bin/bash\nsystemctl start ${unit}\necho 'setup (pi1): nothing to change'\n`, mode: 0o755 });
        const later = { done: [] as string[], skipped: [] as string[], reports: [] as string[] };
        await runHandlers(remote, [{ kind: 'setup' }, { kind: 'restart', service: unit }], 'stamp-2', {
          started: () => {},
          done: (id) => later.done.push(id),
          skipped: (id) => later.skipped.push(id),
          setupReport: (l) => later.reports.push(l),
        });
        expect(await starts()).toBe(2);
        expect(later).toEqual({ done: ['setup.sh', `restart ${unit}`], skipped: [], reports: ['setup (pi1): nothing to change'] });
      } finally {
        remote.close();
      }
    });
  },
);
