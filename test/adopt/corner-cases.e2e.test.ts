/**
 * labgen adopt where it is easy to get wrong, on 5 stock Raspberry Pi OS test hosts (test
 * hosts: network namespaces with a real sshd, test/support/test-hosts.ts):
 *  - two Pis adopted one after the other at one address (a DHCP address handed on, or
 *    raspberrypi.local): that address vouches for neither, so a push to the first never goes to
 *    the second, and the real ssh through laptop/ssh_config refuses it too;
 *  - an sshd whose reload failed during adopt is reloaded by the next adopt, though the key
 *    files are in place by then;
 *  - an agent holding more keys than sshd's MaxAuthTries takes: sshd hangs up ("Too many
 *    authentication failures"), which is a refused login, so the password is asked for;
 *  - an authorized_keys that holds the lab key commented out, or behind options: the key is
 *    added on a line of its own, and the lab key logs in.
 * systemctl and nmcli are test-host stand-ins (test/push/support.ts): no systemd runs here, so
 * sshd is reloaded through its pid file, as adopt does where systemd is not running.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STATE_FILE } from '../../generator/common/layout.js';
import { describeE2e } from '../support/prereq.js';
import { generateKeyPair, run, startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';
import { BIN, assertBuilt } from '../workflow/support.js';
import { byHost, labYaml, push, writeLab } from '../push/support.js';
import { adopt, fingerprintOfLine, hostPicture, labHostKey, servedFingerprint, sshFromLab, startAgent, STOCK_SSHD, stockFiles, terminal, userHome } from './support.js';

const PASSWORD = 'stock-Pi-passw0rd';
const COMMANDS = ['ip', 'sshd', 'ssh', 'unshare', 'nsenter', 'setpriv', 'tar', 'sudo', 'visudo', 'useradd', 'chpasswd', 'sha256sum', 'setsid', 'dpkg-query', 'ssh-keyscan', 'ssh-keygen', 'ssh-agent', 'ssh-add', 'tmux', 'awk'];

describeE2e('labgen adopt, corner cases: 5 stock Raspberry Pi OS test hosts (systemctl and nmcli are test-host stand-ins: no systemd here)', { root: true, commands: COMMANDS }, () => {
  let group: TestHostGroup;
  let box = '';
  let labFile = '';
  let labDir = '';
  let alice: Awaited<ReturnType<typeof userHome>>;
  let nokeys: Awaited<ReturnType<typeof userHome>>;
  let pi3Key: Awaited<ReturnType<typeof generateKeyPair>>;
  const host = (n: string) => group.host(n);
  const base = () => group.subnet.replace(/\.0\/24$/, '');
  const knownHosts = () => readFileSync(join(labDir, '.labgen/known_hosts'), 'utf8');
  const labPub = () => readFileSync(join(labDir, '.labgen/secrets/id_ed25519.pub'), 'utf8').trim();

  beforeAll(async () => {
    box = mkdtempSync(join(tmpdir(), 'labgen-adopt-corners-'));
    alice = await userHome(true);
    nokeys = await userHome(false);
    const stock = await stockFiles(box, ['pi1', 'pi2', 'pi3', 'pi4', 'pi5']);
    // pi3's sshd names its ed25519 key in a HostKey line: adopt adds a drop-in, which takes a reload
    pi3Key = await generateKeyPair(join(box, 'pi3-key'), 'ed25519', 'root@pi3');
    group = await startHosts(5, {
      files: (h) => ({
        ...stock(h),
        // pi4's sshd hangs up after 2 failed logins (the stock limit is 6)
        ...(h.name === 'pi3'
          ? {
              '/etc/ssh/sshd_config.d/00-labgen-test-host.conf': `${STOCK_SSHD}HostKey /etc/ssh/keys/ed25519\n`,
              '/etc/ssh/keys/ed25519': { content: pi3Key.privateKey, mode: 0o600 },
            }
          : {}),
        ...(h.name === 'pi4' ? { '/etc/ssh/sshd_config.d/00-labgen-test-host.conf': `${STOCK_SSHD}MaxAuthTries 2\n` } : {}),
      }),
      users: [
        { name: 'alice', authorizedKey: alice.publicKey, sudo: 'nopasswd' },
        { name: 'bob', password: PASSWORD, sudo: 'password' },
      ],
    });
    labDir = join(box, 'lab');
    mkdirSync(labDir);
    labFile = join(labDir, 'lab.yaml');
    // pi1 and pi2 were flashed to take a DHCP address: lab.yaml gives them addresses of their own
    await writeLab(labFile, labYaml(group, 'pi', {}, { pi1: `${base()}.150`, pi2: `${base()}.151` }));
  }, 120_000);
  afterAll(async () => {
    await group?.stopAll();
    for (const d of [box, alice?.home, nokeys?.home]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /** `address` on `h` as a second address of its eth0, or taken off it again; the machine forgets where it was (its neighbour entry). */
  async function address(h: TestHost, op: 'add' | 'del', ip: string): Promise<void> {
    const r = await run('ip', ['-n', h.netns, 'addr', op, `${ip}/24`, 'dev', 'eth0']);
    expect(r.code, r.stderr).toBe(0);
    await run('ip', ['neigh', 'flush', 'to', ip]);
  }

  /** the ed25519 fingerprint served at `ip`, once something answers there */
  async function servedAt(ip: string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const fp = await servedFingerprint(ip);
      if (fp) return fp;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`nothing answers ssh at ${ip}`);
  }

  /** the line of `h`'s sshd log that matches `re`, waited for (sshd writes it as its connection ends) */
  async function logLine(h: TestHost, re: RegExp): Promise<string | undefined> {
    for (let i = 0; i < 100; i++) {
      const line = h.log().split('\n').find((l) => re.test(l));
      if (line) return line;
      await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  }

  it('two Pis adopted at one address: that address vouches for neither; a push to the first, finding the second there, is refused naming both, and so is the real ssh', async () => {
    const [pi1, pi2] = [host('pi1'), host('pi2')];
    const shared = `${base()}.160`; // the DHCP address, handed to pi1, then to pi2
    const pinned = knownHosts();

    await address(pi1, 'add', shared);
    expect(await servedAt(shared)).toBe(fingerprintOfLine(pi1.hostKey));
    const first = await adopt(['pi1'], { lab: labFile, user: 'alice', home: alice.home, address: shared, fingerprint: [fingerprintOfLine(pi1.hostKey)] });
    expect(first.code, first.err + first.out).toBe(0);
    await address(pi1, 'del', shared);

    await address(pi2, 'add', shared);
    expect(await servedAt(shared)).toBe(fingerprintOfLine(pi2.hostKey));
    const second = await adopt(['pi2'], { lab: labFile, user: 'alice', home: alice.home, address: shared, fingerprint: [fingerprintOfLine(pi2.hostKey)] });
    expect(second.code, second.err + second.out).toBe(0);
    expect(await servedAt(shared)).toBe(fingerprintOfLine(labHostKey(labDir, 'pi2')));

    // each pinned under its name and lab.yaml's address, as generate pinned them; never under the shared address
    expect(knownHosts()).toBe(pinned);
    expect(JSON.parse(readFileSync(join(labDir, STATE_FILE), 'utf8')).nodes).toMatchObject({ pi1: { address: shared }, pi2: { address: shared } });

    // push looks for pi1 where adopt found it: pi2 answers there, with pi2's key
    const before = await hostPicture(pi2);
    const pushed = await push(labFile, ['pi1']);
    expect(pushed.code).toBe(1);
    expect(byHost(pushed).get('pi1')!.failure?.step).toBe('host key');
    expect(pushed.err).toContain(
      `host key of pi1 (${shared}) is the one the lab pinned for pi2: it presented ${fingerprintOfLine(labHostKey(labDir, 'pi2'))}; refused: that is another host, not pi1`,
    );
    expect(await hostPicture(pi2)).toBe(before);
    expect((await pi2.exec('[ -e /var/lib/labgen ]')).code, "nothing of pi1's on pi2").not.toBe(0);
    expect(knownHosts()).toBe(pinned);

    // the real ssh, through laptop/ssh_config, sent to the shared address: pi1's pin refuses pi2, pi2's takes it
    const asPi1 = await sshFromLab(labDir, nokeys.home, 'pi1', shared);
    expect(asPi1.code).not.toBe(0);
    expect(asPi1.stderr).toContain('Host key verification failed');
    const asPi2 = await sshFromLab(labDir, nokeys.home, 'pi2', shared);
    expect(asPi2.code, asPi2.stderr).toBe(0);
  });

  it('an sshd whose reload failed during adopt is reloaded by the next adopt, though the key files and its drop-in are in place by then', async () => {
    const pi3 = host('pi3');
    const stockKey = fingerprintOfLine(pi3Key.publicKey);
    expect(await servedFingerprint(pi3.ip), 'the key of its HostKey line').toBe(stockKey);
    // the pid file names no process: the reload fails after the key files went in
    const broken = await pi3.exec('echo not-a-pid > /run/sshd.pid');
    expect(broken.code, broken.stderr).toBe(0);
    const failed = await adopt(['pi3'], { lab: labFile, user: 'alice', home: alice.home, fingerprint: [stockKey] });
    expect(failed.code).toBe(1);
    expect(failed.err).toContain(`pi3 (${pi3.ip}): failed at install`);
    expect(await pi3.readFile('/etc/ssh/ssh_host_ed25519_key.pub')).toBe(labHostKey(labDir, 'pi3'));
    expect(await pi3.readFile('/etc/ssh/sshd_config.d/00-labgen-host-key.conf')).toContain('\nHostKey /etc/ssh/ssh_host_ed25519_key\n');
    // a new connection's sshd reads the key files anew, but the HostKey lines of the config the listener read at its start
    expect(await servedFingerprint(pi3.ip), 'sshd, not reloaded, still serves its own key').toBe(stockKey);

    const fixed = await pi3.exec('echo 1 > /run/sshd.pid'); // sshd is PID 1 of the host
    expect(fixed.code, fixed.stderr).toBe(0);
    const again = await adopt(['pi3'], { lab: labFile, user: 'alice', home: alice.home, fingerprint: [stockKey] });
    expect(again.code, again.err + again.out).toBe(0);
    expect(again.out).toMatch(/^pi3: reloaded sshd$/m);
    expect(await servedFingerprint(pi3.ip)).toBe(fingerprintOfLine(labHostKey(labDir, 'pi3')));
    expect((await pi3.exec('[ -e /run/labgen-host-key.reload ]')).code, 'no reload owed any more').not.toBe(0);

    // and once done, done: nothing to change, nothing reloaded
    const third = await adopt(['pi3'], { lab: labFile, home: nokeys.home });
    expect(third.code, third.err).toBe(0);
    expect(third.out).toContain('pi3: nothing to change: the lab user, its keys and the host key are in place');
  });

  it('more keys in the agent than MaxAuthTries: sshd hangs up, a refused login; without a terminal that is said, on one the password is asked for and adopts it', async () => {
    assertBuilt();
    const pi4 = host('pi4');
    const fp = fingerprintOfLine(pi4.hostKey);
    const keys = await Promise.all(['k1', 'k2', 'k3'].map((k) => generateKeyPair(join(box, 'agent-keys'), k)));
    const agent = await startAgent(box, ...keys.map((k) => k.privateKeyPath));
    try {
      const before = await hostPicture(pi4);
      const r = await adopt(['pi4'], { lab: labFile, user: 'bob', home: nokeys.home, agent: agent.socket, fingerprint: [fp] });
      expect(r.code).toBe(1);
      expect(r.err).toContain(`pi4 (${pi4.ip}): failed at login: bob cannot log in to pi4 (${pi4.ip}): ssh-agent was refused, and there is no terminal to type a password on`);
      // sshd hung up on the agent's keys (its log line may come a moment after the connection closed)
      expect(await logLine(pi4, /Disconnecting authenticating user bob .*: Too many authentication failures/)).toBeTruthy();
      expect(await hostPicture(pi4)).toBe(before);

      const term = terminal(box, [process.execPath, BIN, 'adopt', 'pi4', '--lab', labFile, '--user', 'bob', '--fingerprint', fp], { HOME: nokeys.home, SSH_AUTH_SOCK: agent.socket });
      try {
        await term.waitFor(new RegExp(`password of bob@pi4 \\(${pi4.ip.replace(/\./g, '\\.')}\\)`));
        term.type(PASSWORD);
        expect(await term.exitCode(), term.screen()).toBe(0);
        expect(term.screen()).toMatch(/^pi4 .* bob: password +replaced by the lab's +adopted$/m);
      } finally {
        term.kill();
      }
    } finally {
      agent.stop();
    }
    expect(await servedFingerprint(pi4.ip)).toBe(fingerprintOfLine(labHostKey(labDir, 'pi4')));
  });

  it('the lab key commented out, or behind options, in authorized_keys is not the lab key authorized: it is added on a line of its own, and logs in', async () => {
    const pi5 = host('pi5');
    // the lab user is there (the imager's), its authorized_keys mentions the lab key twice, neither a line sshd lets push in by
    const own = `# ${labPub()} (taken out by hand)\nfrom="10.255.255.254" ${labPub()}\n${alice.publicKey}\n`;
    const made = await pi5.exec(
      `useradd -m -s /bin/bash -p '*' pi && install -d -m 0700 -o pi -g pi /home/pi/.ssh && cat > /home/pi/.ssh/authorized_keys && chown pi:pi /home/pi/.ssh/authorized_keys && chmod 0600 /home/pi/.ssh/authorized_keys && echo 'pi ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/010_pi-nopasswd`,
      { input: own },
    );
    expect(made.code, made.stderr).toBe(0);
    const r = await adopt(['pi5'], { lab: labFile, home: alice.home, fingerprint: [fingerprintOfLine(pi5.hostKey)] });
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/^pi5: gave it passwordless sudo, authorized the lab key, replaced the host key with the lab's, reloaded sshd$/m);
    // the user's lines kept as they were, the lab key appended once
    expect(await pi5.readFile('/home/pi/.ssh/authorized_keys')).toBe(`${own}${labPub()}\n`);
    // adopt's check logged in with the lab key as push does (it fails otherwise), and a push goes through
    const pushed = await push(labFile, ['pi5']);
    expect(pushed.code, pushed.err).toBe(0);
  });
});
