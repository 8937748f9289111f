/**
 * labgen adopt against 4 stock Raspberry Pi OS hosts (test hosts: network namespaces with a real
 * sshd, test/support/test-hosts.ts): each presents host keys of its own, which the lab did not
 * make, and takes its users' own logins — alice with a key (the user's own, in a temp HOME) and
 * passwordless sudo, bob with a password that sudo asks for too. The lab user `pi` does not
 * exist on pi1, pi2 and pi4; on pi3 it does (the imager's user). pi4's sshd names its host key
 * in a HostKey line, so adopt must make it offer the lab's too. After adopt, the real `labgen push`
 * and `labgen status` reach the hosts with no flag. systemctl and nmcli are test-host stand-ins
 * (test/push/support.ts): no systemd or NetworkManager runs here, so sshd is reloaded through its
 * pid file, as adopt does where systemd is not running.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STATE_FILE } from '../../generator/common/layout.js';
import { describeE2e } from '../support/prereq.js';
import { generateKeyPair, startHosts, type TestHostGroup } from '../support/test-hosts.js';
import { BIN, assertBuilt } from '../workflow/support.js';
import { byHost, labYaml, push, remoteFile, status, writeLab } from '../push/support.js';
import { adopt, fingerprintOfLine, hostPicture, labHostKey, servedFingerprint, sshFromLab, startAgent, STOCK_SSHD, stockFiles, terminal, userHome } from './support.js';

const PASSWORD = 'stock-Pi-passw0rd';
const COMMANDS = ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'tar', 'sudo', 'visudo', 'useradd', 'chpasswd', 'sha256sum', 'setsid', 'dpkg-query', 'ssh-keyscan', 'ssh-keygen', 'ssh-agent', 'ssh-add', 'tmux'];

describeE2e('labgen adopt: stock Raspberry Pi OS on 4 test hosts (systemctl and nmcli are test-host stand-ins: no systemd here)', { root: true, commands: COMMANDS }, () => {
  let group: TestHostGroup;
  let box = '';
  let labFile = '';
  let labDir = '';
  let alice: Awaited<ReturnType<typeof userHome>>;
  let nokeys: Awaited<ReturnType<typeof userHome>>;
  let pi4Key: Awaited<ReturnType<typeof generateKeyPair>>;
  const host = (n: string) => group.host(n);
  const knownHosts = () => readFileSync(join(labDir, '.labgen/known_hosts'), 'utf8');

  beforeAll(async () => {
    box = mkdtempSync(join(tmpdir(), 'labgen-adopt-'));
    alice = await userHome(true);
    nokeys = await userHome(false);
    // pi4's sshd serves an ed25519 key from a file of its own (a HostKey line), not the default path
    pi4Key = await generateKeyPair(join(box, 'pi4-key'), 'ed25519', 'root@pi4');
    const stock = await stockFiles(box, ['pi1', 'pi2', 'pi3', 'pi4']);
    group = await startHosts(4, {
      files: (h) => ({
        ...stock(h),
        ...(h.name === 'pi4'
          ? {
              '/etc/ssh/sshd_config.d/00-labgen-test-host.conf': `${STOCK_SSHD}HostKey /etc/ssh/keys/ed25519\n`,
              '/etc/ssh/keys/ed25519': { content: pi4Key.privateKey, mode: 0o600 },
            }
          : {}),
      }),
      users: [
        { name: 'alice', authorizedKey: alice.publicKey, sudo: 'nopasswd' },
        { name: 'bob', password: PASSWORD, sudo: 'password' },
      ],
    });
    labDir = join(box, 'lab');
    mkdirSync(labDir);
    labFile = join(labDir, 'lab.yaml');
    // pi3 was flashed to take a DHCP address: lab.yaml gives it another one
    const lab = labYaml(group, 'pi', {}, { pi3: group.subnet.replace(/\.0\/24$/, '.150') });
    await writeLab(labFile, { ...lab, pis: { ...lab.pis, authorizedKeys: [join(alice.home, '.ssh/id_ed25519.pub')] } });
  }, 120_000);
  afterAll(async () => {
    await group?.stopAll();
    for (const d of [box, alice?.home, nokeys?.home]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('a push to a stock Pi is refused before it logs in, and names labgen adopt', async () => {
    const pi1 = host('pi1');
    const before = await hostPicture(pi1);
    const r = await push(labFile, ['pi1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`host key of pi1 (${pi1.ip}) has CHANGED: it presented ${fingerprintOfLine(pi1.hostKey)}`);
    expect(r.err).toContain('`labgen adopt pi1`');
    expect(await hostPicture(pi1)).toBe(before);
  });

  it('bad input is exit 2 before anything connects', () => {
    assertBuilt();
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'adopt', ...args, '--lab', labFile], { encoding: 'utf8', env: { ...process.env, HOME: nokeys.home, SSH_AUTH_SOCK: '' } });
    const cases: [string[], string][] = [
      [['pi1', '--fingerprint', 'MD5:ab:cd'], '--fingerprint MD5:ab:cd: not a SHA256 fingerprint'],
      [['pi1', 'pi2', '--address', '10.9.9.9'], "--address names one Pi's address, but 2 Pis are named (pi1, pi2)"],
      [['pi1', 'pi2', '--fingerprint', `SHA256:${'A'.repeat(43)}`], "which Pi's? Several Pis are named"],
      [['pi1', '--fingerprint', `pi9=SHA256:${'A'.repeat(43)}`], 'pi9 is not one of the Pis to adopt'],
      [['nope'], 'not a Pi of this lab: nope'],
      [['pi1', '--user', 'a b'], '--user "a b" is not a user name'],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      expect([r.status, r.stderr], args.join(' ')).toEqual([2, expect.stringContaining(message)]);
    }
    expect(readFileSync(join(labDir, '.labgen/known_hosts'), 'utf8')).not.toContain('10.9.9.9');
  });

  it('no terminal and no --fingerprint: refused with the fingerprint and how to check it on the Pi; nothing changed', async () => {
    const pi1 = host('pi1');
    const before = await hostPicture(pi1);
    const pinned = knownHosts();
    const r = await adopt(['pi1'], { lab: labFile, user: 'alice', home: alice.home });
    const fp = fingerprintOfLine(pi1.hostKey);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`pi1 (${pi1.ip}): failed at host key: pi1 (${pi1.ip}) presents the host key ssh-ed25519 ${fp}, which the lab did not make`);
    expect(r.err).toContain('`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`');
    expect(r.err).toContain(`run \`labgen adopt pi1 --fingerprint ${fp}\``);
    expect(await hostPicture(pi1)).toBe(before);
    expect(knownHosts()).toBe(pinned);
    expect(pi1.log()).not.toMatch(/Accepted publickey for alice/); // refused before logging in
  });

  it('a wrong --fingerprint is refused, naming the key presented; two Pis at once, nothing changed on either', async () => {
    const [pi1, pi2] = [host('pi1'), host('pi2')];
    const before = [await hostPicture(pi1), await hostPicture(pi2)];
    // each Pi's fingerprint given for the other
    const fp1 = fingerprintOfLine(pi1.hostKey);
    const fp2 = fingerprintOfLine(pi2.hostKey);
    const r = await adopt(['pi1', 'pi2'], { lab: labFile, user: 'alice', home: alice.home, fingerprint: [`pi1=${fp2}`, `pi2=${fp1}`] });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`pi1 (${pi1.ip}) presents the host key ssh-ed25519 ${fp1}, not the --fingerprint ${fp2}; refused: nothing was changed on it`);
    expect(r.err).toContain(`pi2 (${pi2.ip}) presents the host key ssh-ed25519 ${fp2}, not the --fingerprint ${fp1}; refused: nothing was changed on it`);
    expect([await hostPicture(pi1), await hostPicture(pi2)]).toEqual(before);
    expect(existsSync(join(labDir, STATE_FILE))).toBe(false);
  });

  it('the right --fingerprint: alice logs in with her own key, the lab user is made, the lab host key served; push and status then need no flag', async () => {
    const pi1 = host('pi1');
    const labKey = labHostKey(labDir, 'pi1');
    const pinned = knownHosts();
    const r = await adopt(['pi1'], { lab: labFile, user: 'alice', home: alice.home, fingerprint: [fingerprintOfLine(pi1.hostKey)] });
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/^pi1: made the lab user, gave it passwordless sudo, authorized the lab key, replaced the host key with the lab's, reloaded sshd$/m);
    expect(r.out).toMatch(new RegExp(`^pi1 +${pi1.ip.replace(/\./g, '\\.')} +alice: ~/\\.ssh/id_ed25519 +replaced by the lab's +adopted$`, 'm'));
    expect(r.out).toContain('adopted: 1 Pi(s); next: labgen push pi1');

    // what is on the host, read by the programs that read it
    expect(await servedFingerprint(pi1.ip)).toBe(fingerprintOfLine(labKey));
    expect(await remoteFile(pi1, '/etc/ssh/ssh_host_ed25519_key')).toMatch(/ 600 root:root$/);
    expect(await pi1.readFile('/etc/ssh/ssh_host_ed25519_key.pub')).toBe(labKey);
    expect((await pi1.exec('sshd -t && sshd -T | grep "^hostkey .*ed25519"')).stdout.trim()).toBe('hostkey /etc/ssh/ssh_host_ed25519_key');
    expect(await remoteFile(pi1, '/etc/sudoers.d/labgen-pi')).toMatch(/ 440 root:root$/);
    expect((await pi1.exec('visudo -c')).code).toBe(0);
    expect((await pi1.exec('getent shadow pi | cut -d: -f2')).stdout.trim()).toBe('*'); // no password logs in
    const authorized = await pi1.readFile('/home/pi/.ssh/authorized_keys');
    const labPub = readFileSync(join(labDir, '.labgen/secrets/id_ed25519.pub'), 'utf8').trim();
    expect(authorized).toBe(`${labPub}\n${alice.publicKey}\n`); // the lab key, then pis.authorizedKeys
    expect(await remoteFile(pi1, '/home/pi/.ssh/authorized_keys')).toMatch(/ 600 pi:pi$/);
    expect((await pi1.exec('stat -c "%a %U" /home/pi/.ssh')).stdout.trim()).toBe('700 pi');
    expect((await pi1.exec('find /etc/ssh /etc/sudoers.d /home/pi -name "*.labgen-*"')).stdout).toBe(''); // no temp left
    // already pinned under its name and lab.yaml address: nothing to add; its address remembered
    expect(knownHosts()).toBe(pinned);
    expect(JSON.parse(readFileSync(join(labDir, STATE_FILE), 'utf8')).nodes.pi1).toEqual({ address: pi1.ip });
    // the real ssh, as the user reaches the Pi from the lab folder: laptop/ssh_config checks it against the pin under its name
    const ssh = await sshFromLab(labDir, nokeys.home, 'pi1');
    expect(ssh.code, ssh.stderr).toBe(0);

    const pushed = await push(labFile, ['pi1']);
    expect(pushed.code, pushed.err).toBe(0);
    expect(byHost(pushed).get('pi1')!.handlers).toContain('setup.sh');
    const st = await status(labFile);
    expect(st.out).toMatch(new RegExp(`^pi1 +${pi1.ip.replace(/\./g, '\\.')} +yes +ok +in sync \\(\\d+\\) +\\d+ active +ok$`, 'm'));
  });

  it('again, on a Pi that presents the lab host key: nothing to confirm, the lab key logs in, nothing changes', async () => {
    const pi1 = host('pi1');
    const before = await hostPicture(pi1);
    const r = await adopt(['pi1'], { lab: labFile, home: nokeys.home });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`pi1: presents the lab's host key ${fingerprintOfLine(labHostKey(labDir, 'pi1'))} already: nothing to confirm`);
    expect(r.out).toMatch(/^pi1 .* pi: the lab key +the lab's already +adopted$/m);
    expect(r.out).toContain('pi1: nothing to change: the lab user, its keys and the host key are in place');
    expect(await hostPicture(pi1)).toBe(before);
  });

  it("a Pi that answers with another Pi's lab key (a wrong --address) is refused; nothing changes on it", async () => {
    const pi1 = host('pi1');
    const before = await hostPicture(pi1);
    const r = await adopt(['pi2'], { lab: labFile, user: 'alice', home: alice.home, address: pi1.ip, fingerprint: [fingerprintOfLine(host('pi2').hostKey)] });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`pi2 (${pi1.ip}) presents ${fingerprintOfLine(labHostKey(labDir, 'pi1'))}, the host key the lab pinned for pi1: that is another host, not pi2 (a wrong --address?); refused`);
    expect(await hostPicture(pi1)).toBe(before);
  });

  it('on a terminal: "no" at the key refuses, Ctrl+C at the password cancels (130), nothing changed; "yes" and bob\'s password (his key refused first; never shown) adopt it', async () => {
    assertBuilt();
    const pi2 = host('pi2');
    const fp = fingerprintOfLine(pi2.hostKey);
    const argv = [process.execPath, BIN, 'adopt', 'pi2', '--lab', labFile, '--user', 'bob'];
    // alice's key is in HOME but not bob's: refused, then the password is asked for
    const env = { HOME: alice.home, SSH_AUTH_SOCK: undefined };
    const before = await hostPicture(pi2);

    const no = terminal(box, argv, env);
    try {
      const s = await no.waitFor(/Does it print SHA256:\S+\? \(y\/N\)/);
      expect(s).toContain(`pi2 (${pi2.ip}) presents the host key ssh-ed25519 ${fp}`);
      expect(s).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
      no.type('n');
      expect(await no.exitCode()).toBe(1);
      expect(no.screen()).toContain(`presents the host key ssh-ed25519 ${fp}: not confirmed; refused: nothing was changed on it`);
    } finally {
      no.kill();
    }
    expect(await hostPicture(pi2)).toBe(before);

    const cancelled = terminal(box, argv, env);
    try {
      await cancelled.waitFor(/Does it print SHA256:\S+\? \(y\/N\)/);
      cancelled.type('y');
      await cancelled.waitFor(/password of bob@pi2/);
      cancelled.keys('C-c');
      expect(await cancelled.exitCode()).toBe(130);
      expect(cancelled.screen()).toContain('failed at login: cancelled at a question (Ctrl+C): nothing was changed on it');
    } finally {
      cancelled.kill();
    }
    expect(await hostPicture(pi2)).toBe(before);

    const yes = terminal(box, argv, env);
    try {
      await yes.waitFor(/Does it print SHA256:\S+\? \(y\/N\)/);
      yes.type('y');
      await yes.waitFor(new RegExp(`password of bob@pi2 \\(${pi2.ip.replace(/\./g, '\\.')}\\)`));
      yes.type(PASSWORD);
      expect(await yes.exitCode(), yes.screen()).toBe(0);
      const s = yes.screen();
      expect(s).toMatch(/^pi2 .* bob: password +replaced by the lab's +adopted$/m);
      expect(s).not.toContain(PASSWORD);
    } finally {
      yes.kill();
    }
    expect(await servedFingerprint(pi2.ip)).toBe(fingerprintOfLine(labHostKey(labDir, 'pi2')));
    const pushed = await push(labFile, ['pi2']);
    expect(pushed.code, pushed.err).toBe(0);
  });

  it('ssh-agent and --address: the imager user pi keeps its own keys; the next push finds the Pi there and moves it to its lab.yaml address', async () => {
    const pi3 = host('pi3');
    const own = (await generateKeyPair(join(box, 'elsewhere'), 'id_ed25519', 'pi@elsewhere')).publicKey;
    // Raspberry Pi OS's first user: passwordless sudo, here with alice's key and a key of its own
    const made = await pi3.exec(
      `useradd -m -s /bin/bash -p '*' pi && install -d -m 0700 -o pi -g pi /home/pi/.ssh && printf '%s\\n%s' '${own}' '${alice.publicKey}' > /home/pi/.ssh/authorized_keys && chown pi:pi /home/pi/.ssh/authorized_keys && echo 'pi ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/010_pi-nopasswd`,
    );
    expect(made.code, made.stderr).toBe(0);
    const agent = await startAgent(box, alice.privateKeyPath!);
    const pinned = knownHosts();
    try {
      const r = await adopt(['pi3'], { lab: labFile, home: nokeys.home, agent: agent.socket, address: pi3.ip, fingerprint: [fingerprintOfLine(pi3.hostKey)] });
      expect(r.code, r.err + r.out).toBe(0);
      expect(r.out).toMatch(/^pi3 .* pi: ssh-agent +replaced by the lab's +adopted$/m);
      expect(r.out).not.toContain('made the lab user');
      expect(r.out).toContain(`pi3: found at ${pi3.ip}: \`labgen push pi3\` looks for it there first and moves it to ${group.subnet.replace(/\.0\/24$/, '.150')}`);
    } finally {
      agent.stop();
    }
    const labPub = readFileSync(join(labDir, '.labgen/secrets/id_ed25519.pub'), 'utf8').trim();
    // its own lines kept (the last one had no newline), the lab key added once, alice's not twice
    expect(await pi3.readFile('/home/pi/.ssh/authorized_keys')).toBe(`${own}\n${alice.publicKey}\n${labPub}\n`);
    // pinned under its name and lab.yaml's address only: an address it was found at may be the next stock Pi's
    expect(knownHosts()).toBe(pinned);
    expect(knownHosts()).not.toContain(`${pi3.ip} `);
    expect(JSON.parse(readFileSync(join(labDir, STATE_FILE), 'utf8')).nodes.pi3).toEqual({ address: pi3.ip });

    const lab = group.subnet.replace(/\.0\/24$/, '.150');
    const pushed = await push(labFile, ['pi3']);
    expect(pushed.code, pushed.err).toBe(0);
    expect(byHost(pushed).get('pi3')!.address).toBe(lab);
    expect(pushed.out).toContain(`pi3: network cut-over ${pi3.ip} → ${lab} confirmed`);
    // at its lab.yaml address now, the real ssh reaches it through laptop/ssh_config, checked
    const ssh = await sshFromLab(labDir, nokeys.home, 'pi3');
    expect(ssh.code, ssh.stderr).toBe(0);
  });

  it('an sshd that names its own ed25519 key is made to offer the lab key first (a drop-in sshd reads)', async () => {
    const pi4 = host('pi4');
    const fp = fingerprintOfLine(pi4Key.publicKey);
    expect(await servedFingerprint(pi4.ip), 'the key of its HostKey line').toBe(fp);
    const r = await adopt(['pi4'], { lab: labFile, user: 'alice', home: alice.home, fingerprint: [fp] });
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toContain("replaced the host key with the lab's, made sshd offer it, reloaded sshd");
    expect(await pi4.readFile('/etc/ssh/sshd_config.d/00-labgen-host-key.conf')).toContain('\nHostKey /etc/ssh/ssh_host_ed25519_key\n');
    expect((await pi4.exec('sshd -T | grep "^hostkey "')).stdout).toBe('hostkey /etc/ssh/ssh_host_ed25519_key\nhostkey /etc/ssh/keys/ed25519\n');
    expect(await servedFingerprint(pi4.ip)).toBe(fingerprintOfLine(labHostKey(labDir, 'pi4')));
    expect((await push(labFile, ['pi4'])).code).toBe(0);
  });
});
