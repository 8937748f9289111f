/**
 * labgen push without SSH: the pure decisions (what each Pi should hold, what to upload, which
 * handlers), known_hosts, the secrets store's host keys, and the remote scripts themselves run
 * by the local sh against a temp folder (listing, temp + rename upload, the cut-over guard).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generate } from '../../generator/cli/generate.js';
import { pushCommand } from '../../generator/cli/push.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { loadSecrets } from '../../generator/secrets/store.js';
import type { Lab } from '../../generator/model/defaults.js';
import { planWithFacts } from '../../generator/plan/index.js';
import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { CommandError } from '../../drivers/base/failure.js';
import { fingerprint, KnownHostsFile, parseKnownHosts, pinnedTypes, publicKeyBlob, verifyHostKey } from '../../drivers/base/known-hosts.js';
import { asRoot } from '../../drivers/base/ssh.js';
import { confirmScript, detached, guardScript } from '../../drivers/push/cutover.js';
import { setupSummary } from '../../drivers/push/handlers.js';
import { batches, changes, type DesiredFile, handlerId, handlers, namesAddress, owed, type PiTarget, piTargets } from '../../drivers/push/plan.js';
import { candidates, type HostResult, unpinOld } from '../../drivers/push/push.js';
import { listingScript, parseListing, type RemoteState } from '../../drivers/push/remote-state.js';
import { failureLines, pushTable, table } from '../../drivers/push/report.js';
import { FIXED_SECRETS, planLab } from '../support/generated.js';
import { onPath } from '../support/prereq.js';
import { labDirFrom, removeDir } from '../support/tree.js';
import { sha256 } from '../../generator/common/text.js';

const STAGE = PI_STAGE.dir;
/** The plan's per-Pi facts of `lab` (what push reads besides the files). */
const factsOf = (lab: Lab) => planWithFacts(lab, FIXED_SECRETS).pis;

const temps: string[] = [];
const tmp = (prefix = 'labgen-push-unit-') => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterEach(() => {
  temps.splice(0).forEach(removeDir);
  vi.restoreAllMocks();
});

/** A fresh ed25519 key pair and its public blob (what sshd presents); remade when ssh2 makes a malformed one (see store.ts). */
const key = (comment = 'root@x'): { private: string; public: string; blob: Buffer } => {
  const k = utils.generateKeyPairSync('ed25519', { comment });
  const parsed = utils.parseKey(k.private);
  if (parsed instanceof Error || Array.isArray(parsed)) return key(comment);
  return { ...k, blob: parsed.getPublicSSH() };
};

/** The seed lab's plan, with the fixed test secrets; secrets by name for setup.sh. */
function seed(overrides = {}) {
  const { lab, files } = planLab('labs/rpi-slurm/lab.yaml', overrides);
  const secret = (name: string) => (name === 'munge.key' ? Buffer.alloc(1024, 7) : undefined);
  return { lab, files, targets: piTargets(factsOf(lab), files, secret) };
}
const targetOf = (ts: PiTarget[], node: string) => ts.find((t) => t.node === node)!;
const file = (t: PiTarget, path: string) => t.files.find((f) => f.path === path)!;

/** What a Pi holding exactly `t` would list. */
function inSync(t: PiTarget): RemoteState {
  return {
    files: new Map(t.files.map((f) => [f.path, { sha256: f.sha256, mode: f.mode.toString(8), owner: f.owner }])),
    stamp: t.stamp,
    pending: [],
  };
}

describe('known_hosts', () => {
  it('prints fingerprints as ssh-keygen -l does', () => {
    const k = key();
    const fp = fingerprint(k.blob);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(publicKeyBlob(`${k.public.trim()}\n`)).toEqual(k.blob); // a .pub line's blob, whatever its comment
    if (onPath('ssh-keygen')) {
      const dir = tmp();
      writeFileSync(join(dir, 'k.pub'), k.public);
      expect(execFileSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' })).toContain(fp);
    }
  });

  it('trusts a pinned key under the name, or the address for a host with no pin of its own; refuses unknown, changed and revoked keys', () => {
    const pinned = key();
    const other = key();
    const known = parseKnownHosts(
      `# comment\nnode01,10.0.0.2 ssh-ed25519 ${pinned.blob.toString('base64')}\n10.0.0.7 ssh-ed25519 ${other.blob.toString('base64')}\n@revoked * ssh-ed25519 ${key().blob.toString('base64')}\n`,
    );
    const h = (node: string, address: string) => ({ node, address });
    expect(verifyHostKey(known, h('node01', '10.0.0.99'), pinned.blob)).toEqual({ status: 'ok' }); // the Pi moved: its name still pins it
    expect(verifyHostKey(known, h('nodeX', '10.0.0.7'), other.blob)).toEqual({ status: 'ok' }); // no pin of its own: its address's
    expect(verifyHostKey(known, h('node02', '10.0.0.3'), key().blob)).toEqual({ status: 'unknown' });
    expect(verifyHostKey(known, h('node01', '10.0.0.2'), key().blob)).toEqual({ status: 'changed', recorded: [`ssh-ed25519 ${fingerprint(pinned.blob)}`] });
    expect(verifyHostKey(known, h('nodeX', '10.0.0.7'), key().blob)).toEqual({ status: 'changed', recorded: [`ssh-ed25519 ${fingerprint(other.blob)}`] });
    const revoked = key();
    const withRevoked = parseKnownHosts(`node01 ssh-ed25519 ${revoked.blob.toString('base64')}\n@revoked * ssh-ed25519 ${revoked.blob.toString('base64')}\n`);
    expect(verifyHostKey(withRevoked, h('node01', '10.0.0.2'), revoked.blob).status).toBe('revoked');
  });

  it('an address shared by two Pis (adopted one after the other at raspberrypi.local) never vouches for the other: the name decides', () => {
    const [a, b] = [key(), key()];
    const b64 = (x: { blob: Buffer }) => x.blob.toString('base64');
    // as adopt used to pin: each Pi under its name, its address and the address it was found at
    const known = parseKnownHosts(`piA,10.0.0.2,raspberrypi.local ssh-ed25519 ${b64(a)}\npiB,10.0.0.3,raspberrypi.local ssh-ed25519 ${b64(b)}\n`);
    const atShared = (node: string) => ({ node, address: 'raspberrypi.local' });
    expect(verifyHostKey(known, atShared('piA'), a.blob)).toEqual({ status: 'ok' });
    expect(verifyHostKey(known, atShared('piA'), b.blob)).toEqual({ status: 'changed', recorded: [`ssh-ed25519 ${fingerprint(a.blob)}`], pinnedFor: ['piB'] });
    expect(verifyHostKey(known, atShared('piB'), a.blob)).toMatchObject({ status: 'changed', pinnedFor: ['piA'] });
    // a key pinned only under the shared address, and the node's own pin elsewhere: the name still decides
    const onlyAddress = parseKnownHosts(`piA ssh-ed25519 ${b64(a)}\nraspberrypi.local ssh-ed25519 ${b64(b)}\n`);
    expect(verifyHostKey(onlyAddress, atShared('piA'), b.blob)).toEqual({ status: 'changed', recorded: [`ssh-ed25519 ${fingerprint(a.blob)}`] });
    expect(pinnedTypes(onlyAddress, atShared('piA'))).toEqual(['ssh-ed25519']);
  });

  it("a host with no pin of its own that presents another host's key is refused, also where the address pins that key", () => {
    const [a, fresh] = [key(), key()];
    const known = parseKnownHosts(`node01,10.0.0.2 ssh-ed25519 ${a.blob.toString('base64')}\n`);
    expect(verifyHostKey(known, { node: 'nodeX', address: '10.0.0.2' }, a.blob)).toEqual({ status: 'changed', recorded: [`ssh-ed25519 ${fingerprint(a.blob)}`], pinnedFor: ['node01'] });
    expect(verifyHostKey(known, { node: 'nodeX', address: '10.0.0.9' }, a.blob)).toEqual({ status: 'changed', recorded: [], pinnedFor: ['node01'] });
    // pinned under an address only (one a Pi may have left): no other host is named, the key is new to nodeX
    const atOldAddress = parseKnownHosts(`10.0.0.2 ssh-ed25519 ${a.blob.toString('base64')}\n`);
    expect(verifyHostKey(atOldAddress, { node: 'nodeX', address: '10.0.0.9' }, a.blob)).toEqual({ status: 'unknown' });
    // a key the lab has never seen stays unknown (what --trust-new may record)
    expect(verifyHostKey(known, { node: 'nodeX', address: '10.0.0.9' }, fresh.blob)).toEqual({ status: 'unknown' });
    // a key two Pis share (a cloned card, both pinned): each one's own pin vouches for it
    const shared = parseKnownHosts(`node01,10.0.0.2 ssh-ed25519 ${a.blob.toString('base64')}\nnode02,10.0.0.3 ssh-ed25519 ${a.blob.toString('base64')}\n`);
    expect(verifyHostKey(shared, { node: 'node02', address: '10.0.0.3' }, a.blob)).toEqual({ status: 'ok' });
  });

  it('reads hashed names (ssh-keygen -H)', () => {
    const k = key();
    const salt = Buffer.from('0123456789abcdef0123');
    const hmac = (host: string) => createHmac('sha1', salt).update(host).digest('base64');
    const line = `|1|${salt.toString('base64')}|${hmac('10.0.0.2')} ssh-ed25519 ${k.blob.toString('base64')}\n`;
    expect(verifyHostKey(parseKnownHosts(line), { node: 'node01', address: '10.0.0.2' }, k.blob).status).toBe('ok');
    expect(verifyHostKey(parseKnownHosts(line), { node: 'node01', address: '10.0.0.3' }, k.blob).status).toBe('unknown');
  });

  it('pins a key once per name, appending to the file', () => {
    const dir = tmp();
    const path = join(dir, 'known_hosts');
    writeFileSync(path, 'other ssh-ed25519 AAAA'); // no final newline
    const k = key();
    const kh = new KnownHostsFile(path);
    kh.pin(['node01', '10.0.0.2'], k.blob);
    kh.pin(['node01', '10.0.0.2'], k.blob);
    kh.pin(['10.0.0.50'], k.blob);
    expect(readFileSync(path, 'utf8')).toBe(
      `other ssh-ed25519 AAAA\nnode01,10.0.0.2 ssh-ed25519 ${k.blob.toString('base64')}\n10.0.0.50 ssh-ed25519 ${k.blob.toString('base64')}\n`,
    );
    expect(new KnownHostsFile(path).verify({ node: 'node01', address: '10.0.0.50' }, k.blob).status).toBe('ok');
  });

  it('unpins an address a Pi left: only from that key\'s lines, plain or hashed; other keys, revoked lines and comments stay', () => {
    const dir = tmp();
    const path = join(dir, 'known_hosts');
    const [k, other, bad] = [key(), key(), key()];
    const b64 = (x: { blob: Buffer }) => x.blob.toString('base64');
    const salt = Buffer.from('0123456789abcdef0123');
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('10.0.0.2').digest('base64')}`;
    writeFileSync(
      path,
      [
        '# the lab',
        `node01,10.0.0.2 ssh-ed25519 ${b64(k)}`,
        `10.0.0.2 ssh-ed25519 ${b64(other)}`, // another machine's key for the address: not ours to drop
        `${hashed} ssh-ed25519 ${b64(k)}`,
        `@revoked 10.0.0.2 ssh-ed25519 ${b64(bad)}`,
        `10.0.0.50 ssh-ed25519 ${b64(k)}`,
        '',
      ].join('\n'),
    );
    const kh = new KnownHostsFile(path);
    kh.unpin('10.0.0.2', k.blob);
    expect(readFileSync(path, 'utf8')).toBe(
      ['# the lab', `node01 ssh-ed25519 ${b64(k)}`, `10.0.0.2 ssh-ed25519 ${b64(other)}`, `@revoked 10.0.0.2 ssh-ed25519 ${b64(bad)}`, `10.0.0.50 ssh-ed25519 ${b64(k)}`, ''].join('\n'),
    );
    expect(kh.verify({ node: 'node01', address: '10.0.0.50' }, k.blob).status).toBe('ok');
    // ssh itself reads the file so: the address names only the other key now
    if (onPath('ssh-keygen')) {
      const found = spawnSync('ssh-keygen', ['-F', '10.0.0.2', '-f', path], { encoding: 'utf8' }).stdout;
      expect(found).toContain(b64(other));
      expect(found).not.toContain(b64(k));
    }
    const before = readFileSync(path, 'utf8');
    kh.unpin('10.0.0.9', k.blob); // nothing pinned there: the file is left alone
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});

describe('secrets store: Pi host keys', () => {
  const pis = [
    { name: 'node01', ip: '10.0.0.2' },
    { name: 'node02', ip: '10.0.0.3' },
  ];

  it('makes one ed25519 host key per Pi, 0600, and pins it in known_hosts under name and address', () => {
    const dir = tmp();
    const s = loadSecrets(dir, 'lab', pis);
    expect(s.missing).toEqual(expect.arrayContaining(['hostkeys/node01/ssh_host_ed25519_key', 'hostkeys/node02/ssh_host_ed25519_key.pub']));
    s.persist();
    const priv = join(dir, '.labgen/secrets/hostkeys/node01/ssh_host_ed25519_key');
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.labgen/secrets/hostkeys/node01')).mode & 0o777).toBe(0o700);
    const pub = readFileSync(`${priv}.pub`, 'utf8');
    expect(pub).toMatch(/^ssh-ed25519 \S+ root@node01\n$/);
    const known = readFileSync(join(dir, '.labgen/known_hosts'), 'utf8');
    expect(known).toBe(
      `node01,10.0.0.2 ${pub.split(' ').slice(0, 2).join(' ')}\nnode02,10.0.0.3 ${s.hostKeys.node02!.public.split(' ').slice(0, 2).join(' ')}\n`,
    );
    if (onPath('ssh-keygen')) expect(execFileSync('ssh-keygen', ['-y', '-f', priv], { encoding: 'utf8' }).split(' ').slice(0, 2)).toEqual(pub.split(' ').slice(0, 2));

    const again = loadSecrets(dir, 'lab', pis);
    expect(again.missing).toEqual([]);
    expect(again.hostKeys.node01).toEqual(s.hostKeys.node01);
    expect(again.file('munge.key')).toEqual(s.file('munge.key'));
  });

  it('ssh2 keys are remade until readable: 600 in a row all parse (ssh2 alone gets ~1 in 256 wrong)', () => {
    const dir = tmp();
    const many = Array.from({ length: 600 }, (_, i) => ({ name: `n${i}`, ip: `10.0.${i >> 8}.${i & 255}` }));
    const s = loadSecrets(dir, 'lab', many);
    for (const p of many) expect(utils.parseKey(s.hostKeys[p.name]!.private), p.name).not.toBeInstanceOf(Error);
    expect(utils.parseKey(s.secrets.sshKey.private)).not.toBeInstanceOf(Error);
  });

  it('the same secrets pin the same known_hosts; a pin the user changed is kept', () => {
    const a = tmp();
    loadSecrets(a, 'lab', pis).persist();
    const b = tmp();
    mkdirSync(join(b, '.labgen'));
    execFileSync('cp', ['-a', join(a, '.labgen/secrets'), join(b, '.labgen/secrets')]);
    const s = loadSecrets(b, 'lab', pis);
    expect(s.missing).toEqual(['../known_hosts']);
    s.persist();
    expect(readFileSync(join(b, '.labgen/known_hosts'), 'utf8')).toBe(readFileSync(join(a, '.labgen/known_hosts'), 'utf8'));
    writeFileSync(join(b, '.labgen/known_hosts'), 'node01,10.0.0.2 ssh-ed25519 AAAAother\nnode02 ssh-ed25519 AAAAother2\n');
    expect(loadSecrets(b, 'lab', pis).missing).toEqual([]);
  });

  it('a Pi added later gets its key pinned; existing pins are left alone', () => {
    const dir = tmp();
    loadSecrets(dir, 'lab', pis.slice(0, 1)).persist();
    const before = readFileSync(join(dir, '.labgen/known_hosts'), 'utf8');
    const s = loadSecrets(dir, 'lab', pis);
    expect(s.missing).toEqual(['hostkeys/node02/ssh_host_ed25519_key', 'hostkeys/node02/ssh_host_ed25519_key.pub', '../known_hosts']);
    s.persist();
    expect(readFileSync(join(dir, '.labgen/known_hosts'), 'utf8')).toBe(`${before}node02,10.0.0.3 ${s.hostKeys.node02!.public.split(' ').slice(0, 2).join(' ')}\n`);
  });
});

describe('what each Pi should hold', () => {
  it("the plan's facts name each Pi's secrets and services, as its setup.sh installs and keeps them", () => {
    const { lab, files } = seed();
    const pis = factsOf(lab);
    const setup = (n: string) => files.find((f) => f.path === `pis/${n}/setup.sh`)!.contents;
    expect(pis.get('node02')).toMatchObject({ secrets: ['munge.key'], services: ['munge', 'prometheus-node-exporter', 'slurmd'] });
    expect(pis.get('node01')!.secrets).toEqual([]);
    for (const [node, pi] of pis) {
      expect([...setup(node).matchAll(/^install_file "\$secrets"\/(\S+)/gm)].map((m) => m[1]), node).toEqual(pi.secrets);
      expect([...setup(node).matchAll(/^ensure_running (\S+)$/gm)].map((m) => m[1]), node).toEqual(pi.services);
    }
  });

  it('every rootfs file goes to its target and a stage copy; setup.sh and its secrets to the stage folder', () => {
    const { targets, files } = seed();
    const t = targetOf(targets, 'node02');
    const rootfs = files.filter((f) => f.path.startsWith('pis/node02/rootfs/'));
    expect(t.files.filter((f) => f.role === 'target').map((f) => f.path)).toEqual(rootfs.map((f) => f.target!.path));
    expect(t.files.filter((f) => f.role === 'stage').map((f) => f.path)).toEqual(rootfs.map((f) => `${STAGE}/rootfs${f.target!.path}`));
    expect(file(t, `${STAGE}/setup.sh`)).toMatchObject({ mode: 0o755, owner: 'root:root', role: 'setup' });
    expect(file(t, `${STAGE}/secrets/munge.key`)).toMatchObject({ mode: 0o600, role: 'secret', sha256: sha256(Buffer.alloc(1024, 7)) });
    expect(file(t, '/etc/default/slurmd').restart).toEqual(['slurmd']);
    const keyfile = '/etc/NetworkManager/system-connections/lab-eth0.nmconnection';
    expect(file(t, keyfile)).toMatchObject({ network: true, mode: 0o600 });
    expect(file(t, `${STAGE}/rootfs${keyfile}`).network).toBe(true);
    expect(t.applyNetwork).toBe('nmcli connection reload && nmcli connection up lab-eth0');
    expect(t.user).toBe('pi');
  });

  it('boot/ files (image only) are not pushed; bullseye applies the network with dhcpcd', () => {
    const trixie = seed({ pis: { os: 'trixie' } }).targets[0]!;
    expect(trixie.files.some((f) => f.path.includes('network-config'))).toBe(false);
    const bullseye = seed({ pis: { os: 'bullseye' } }).targets[0]!;
    expect(file(bullseye, '/etc/dhcpcd.conf').network).toBe(true);
    expect(bullseye.applyNetwork).toBe('systemctl restart dhcpcd && sleep 1');
  });

  it('the setup stamp follows setup.sh and its secrets', () => {
    const { lab, files } = planLab('labs/rpi-slurm/lab.yaml');
    const a = piTargets(factsOf(lab), files, () => Buffer.from('k1'))[1]!;
    const b = piTargets(factsOf(lab), files, () => Buffer.from('k2'))[1]!;
    expect(a.stamp).not.toBe(b.stamp);
    expect(() => piTargets(factsOf(lab), files, () => undefined)).toThrow(/needs the secret munge.key/);
  });
});

describe('what to upload, which handlers', () => {
  const { targets } = seed();
  const t = targetOf(targets, 'node02');

  it('a Pi that holds everything: nothing to upload, no handler', () => {
    const cs = changes(t.files, inSync(t));
    expect(cs).toEqual([]);
    expect(handlers(cs, t, inSync(t))).toEqual([]);
  });

  it('a changed file is uploaded (target only) and restarts its services once; /etc/hosts restarts nothing', () => {
    const state = inSync(t);
    state.files.set('/etc/hosts', { sha256: 'x', mode: '644', owner: 'root:root' });
    state.files.set('/etc/default/slurmd', { sha256: 'x', mode: '644', owner: 'root:root' });
    state.files.set('/etc/systemd/system/slurmd.service.d/labgen-configless.conf', { sha256: 'y', mode: '644', owner: 'root:root' });
    const cs = changes(t.files, state);
    expect(cs.map((c) => c.file.path)).toEqual(['/etc/default/slurmd', '/etc/hosts', '/etc/systemd/system/slurmd.service.d/labgen-configless.conf']);
    const hs = handlers(cs, t, state);
    expect(hs.map(handlerId)).toEqual(['daemon-reload', 'restart slurmd']);
    expect(owed(hs)).toEqual(['daemon-reload', 'restart slurmd']);
  });

  it('mode and owner count; a missing file says so', () => {
    const state = inSync(t);
    state.files.set('/etc/hosts', { sha256: file(t, '/etc/hosts').sha256, mode: '600', owner: 'pi:pi' });
    state.files.delete('/etc/default/slurmd');
    expect(changes(t.files, state).map((c) => [c.file.path, c.why])).toEqual([
      ['/etc/default/slurmd', ['missing']],
      ['/etc/hosts', ['mode', 'owner']],
    ]);
  });

  it('setup.sh runs when it (or a secret) changed, or its last run did not finish', () => {
    const state = inSync(t);
    state.stamp = 'older';
    state.files.set(`${STAGE}/setup.sh`, { sha256: 'old', mode: '755', owner: 'root:root' });
    const cs = changes(t.files, state);
    expect(cs.map((c) => c.file.path)).toEqual([`${STAGE}/setup.sh`]);
    expect(handlers(cs, t, state).map(handlerId)).toEqual(['setup.sh']);
    expect(handlers([], t, { stamp: '', pending: [] }).map(handlerId)).toEqual(['setup.sh']);
  });

  it('handlers a cut-off push owed are run by the next one', () => {
    const state = { ...inSync(t), pending: ['restart munge', 'daemon-reload', 'bogus line'] };
    expect(handlers([], t, state).map(handlerId)).toEqual(['daemon-reload', 'restart munge']);
  });

  it('a changed network config is its own batch, with its stage copy, and the cut-over comes first', () => {
    const keyfile = '/etc/NetworkManager/system-connections/lab-eth0.nmconnection';
    const state = inSync(t);
    state.files.set(keyfile, { sha256: 'old', mode: '600', owner: 'root:root' });
    state.files.set(`${STAGE}/rootfs${keyfile}`, { sha256: 'old', mode: '600', owner: 'root:root' });
    state.files.set('/etc/hosts', { sha256: 'old', mode: '644', owner: 'root:root' });
    const cs = changes(t.files, state);
    const b = batches(cs);
    expect(b.main.map((c) => c.file.path)).toEqual(['/etc/hosts']);
    expect(b.network.map((c) => c.file.path)).toEqual([keyfile, `${STAGE}/rootfs${keyfile}`]);
    expect(handlers(cs, t, state).map(handlerId)).toEqual(['network']);
    // only the stage copy differs: an ordinary upload, no cut-over
    const stageOnly = inSync(t);
    stageOnly.files.delete(`${STAGE}/rootfs${keyfile}`);
    const cs2 = changes(t.files, stageOnly);
    expect(batches(cs2)).toEqual({ main: cs2, network: [] });
    expect(handlers(cs2, t, stageOnly)).toEqual([]);
  });

  it('the files that name the address the Pi moves to (its /etc/hosts) go with the cut-over, and only with one', () => {
    const keyfile = '/etc/NetworkManager/system-connections/lab-eth0.nmconnection';
    const state = inSync(t);
    for (const p of [keyfile, `${STAGE}/rootfs${keyfile}`, '/etc/hosts', `${STAGE}/rootfs/etc/hosts`, '/etc/default/slurmd'])
      state.files.set(p, { sha256: 'old', mode: '644', owner: 'root:root' });
    const cs = changes(t.files, state);
    expect(namesAddress(file(t, '/etc/hosts').content, t.ip)).toBe(true);
    expect(namesAddress(file(t, '/etc/default/slurmd').content, t.ip)).toBe(false); // names the controller only
    const b = batches(cs, t.ip);
    expect(b.network.map((c) => c.file.path)).toEqual([keyfile, `${STAGE}/rootfs${keyfile}`, '/etc/hosts', `${STAGE}/rootfs/etc/hosts`]);
    expect(b.main.map((c) => c.file.path)).toEqual(['/etc/default/slurmd']);
    // no cut-over (the network config is as it should be): /etc/hosts is an ordinary upload
    const noCut = cs.filter((c) => !c.file.network);
    expect(batches(noCut, t.ip)).toEqual({ main: noCut, network: [] });
    // an address is named as a whole, not as the start of a longer one
    expect(['10.0.0.5', ' 10.0.0.5\n', 'x=10.0.0.5:22', '10.0.0.5.'].map((c) => namesAddress(Buffer.from(c), '10.0.0.5'))).toEqual([true, true, true, true]);
    expect(['10.0.0.50', '110.0.0.5', '10.0.0.5.1', '10x0x0x5'].map((c) => namesAddress(Buffer.from(c), '10.0.0.5'))).toEqual([false, false, false, false]);
  });

  it("a Pi that moved away takes its key's pin for the old address out, unless another Pi of the lab is there", () => {
    const lab = { pi1: '10.0.0.2', pi2: '10.0.0.3', pi3: '10.0.0.50' };
    expect(unpinOld('pi3', '10.0.0.4', { labAddresses: lab, lastAddress: { pi3: '10.0.0.4' } })).toBe(true);
    expect(unpinOld('pi3', '10.0.0.4', { labAddresses: { ...lab, pi2: '10.0.0.4' }, lastAddress: {} })).toBe(false); // pi2 goes there
    expect(unpinOld('pi3', '10.0.0.4', { labAddresses: lab, lastAddress: { pi1: '10.0.0.4' } })).toBe(false); // pi1 still is there
    expect(unpinOld('pi3', '10.0.0.4', { lastAddress: {} })).toBe(true);
  });

  it('addresses to try: where the last push found the Pi, then lab.yaml’s', () => {
    expect(candidates({ node: 'n', ip: '10.0.0.5' }, { n: '10.0.0.4' })).toEqual(['10.0.0.4', '10.0.0.5']);
    expect(candidates({ node: 'n', ip: '10.0.0.5' }, { n: '10.0.0.5' })).toEqual(['10.0.0.5']);
    expect(candidates({ node: 'n', ip: '10.0.0.5' }, {})).toEqual(['10.0.0.5']);
  });
});

// ------------------------------------------------------------------ the remote scripts, run by the local sh

const sh = (script: string, input?: Buffer) => spawnSync('sh', ['-c', script], { input: input ?? Buffer.alloc(0) });
const group = () => execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
const me = () => `${userInfo().username}:${group()}`;

function desiredAt(path: string, content: string, mode = 0o644): DesiredFile {
  const buf = Buffer.from(content);
  return { path, content: buf, sha256: sha256(buf), mode, owner: me(), role: 'target', restart: [], network: false };
}

describe('remote scripts (run locally by sh)', () => {
  it('quotes the whole script as one argument, through sudo for a non-root user', () => {
    expect(asRoot('root', "echo 'it''s'")).toMatch(/^sh -c '/);
    expect(asRoot('pi', 'true')).toMatch(/^sudo -n -- sh -c '/);
    const r = spawnSync('sh', ['-c', asRoot('root', `printf '%s' "it's $((1+1))"`)], { encoding: 'utf8' });
    expect(r.stdout).toBe("it's 2");
  });

  it('the listing prints sha256, mode and owner of each file, a dash for a missing one', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a file'), 'hello\n', { mode: 0o640 });
    const out = sh(listingScript([join(dir, 'a file'), join(dir, 'missing')])).stdout.toString();
    const state = parseListing(`junk a login shell printed\n${out}`);
    expect(state.files.get(join(dir, 'a file'))).toEqual({ sha256: sha256('hello\n'), mode: '640', owner: me() });
    expect(state.files.has(join(dir, 'missing'))).toBe(false);
    expect(parseListing('S abc\nP restart x\nP restart x\nP \n').pending).toEqual(['restart x']);
  });

  it('upload: every file arrives whole, then each is renamed into place with its mode; the old one is kept as .labgen-prev', async () => {
    const { installScript, payload } = await import('../../drivers/push/upload.js');
    const dir = tmp();
    writeFileSync(join(dir, 'old'), 'before\n');
    const files = [
      desiredAt(join(dir, 'old'), 'after\n', 0o600),
      desiredAt(join(dir, 'new/deep/file'), 'x'.repeat(100_000), 0o755),
      desiredAt(join(dir, 'empty'), ''),
      desiredAt(join(dir, 'setuid'), '#!/bin/sh\n', 0o4755), // chown would clear the bit after a chmod
    ];
    const r = sh(installScript(files, 'tok'), await payload(files, 'tok'));
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(statSync(join(dir, 'setuid')).mode & 0o7777).toBe(0o4755);
    expect(() => installScript([desiredAt(join(dir, 'a\nb'), '')], 'tok')).toThrow(/newline or backslash/);
    expect(readFileSync(join(dir, 'old'), 'utf8')).toBe('after\n');
    expect(readFileSync(join(dir, 'old.labgen-prev'), 'utf8')).toBe('before\n');
    expect(statSync(join(dir, 'old')).mode & 0o7777).toBe(0o600);
    expect(statSync(join(dir, 'new/deep/file')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dir, 'new/deep')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, 'empty'), 'utf8')).toBe('');
    expect(existsSync(join(dir, 'new/deep/file.labgen-prev'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('labgen-new'))).toEqual([]);
  });

  // the archive: header a, content a (one block), header b, content b (one block), end blocks
  const secondFile = 3 * 512;
  it.each([
    ['cut short in the first header', (p: Buffer) => p.subarray(0, 5)],
    ['cut short in the second file', (p: Buffer) => p.subarray(0, secondFile + 4)],
    ['with a byte of the second file changed (tar cannot tell)', (p: Buffer) => Buffer.concat([p.subarray(0, secondFile), Buffer.from('X'), p.subarray(secondFile + 1)])],
  ])('upload: a payload %s places nothing at all and leaves no temp behind', async (_, spoil) => {
    const { installScript, payload } = await import('../../drivers/push/upload.js');
    const dir = tmp();
    writeFileSync(join(dir, 'a'), 'A0');
    writeFileSync(join(dir, 'b'), 'B0');
    const files = [desiredAt(join(dir, 'a'), 'A1'), desiredAt(join(dir, 'b'), 'B1-longer')];
    const whole = await payload(files, 'tok');
    expect(whole.subarray(secondFile, secondFile + 9).toString()).toBe('B1-longer');
    const r = sh(installScript(files, 'tok'), spoil(whole));
    expect(r.status).not.toBe(0);
    expect(r.stderr.toString()).toMatch(/labgen: (the files did not arrive whole|tar could not unpack the files) \(connection cut\?/);
    expect([readFileSync(join(dir, 'a'), 'utf8'), readFileSync(join(dir, 'b'), 'utf8')]).toEqual(['A0', 'B0']);
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it('the cut-over guard puts back what the batch placed and re-applies, unless labgen confirmed first', async () => {
    const dir = tmp();
    const cfg = desiredAt(join(dir, 'net.conf'), 'new address\n');
    const untouched = desiredAt(join(dir, 'never-placed.conf'), 'new too\n');
    writeFileSync(join(dir, 'net.conf'), 'new address\n');
    writeFileSync(join(dir, 'net.conf.labgen-prev'), 'old address\n');
    writeFileSync(join(dir, 'never-placed.conf'), 'old, not replaced\n');
    const guardDir = join(dir, 'cutover');
    mkdirSync(guardDir);
    const guard = guardScript(guardDir, [{ file: cfg, why: ['content'] }, { file: untouched, why: ['content'] }], `echo applied >> ${join(dir, 'log')}`);
    expect(sh(guard).status).toBe(0);
    expect(readFileSync(join(dir, 'net.conf'), 'utf8')).toBe('old address\n');
    expect(readFileSync(join(dir, 'never-placed.conf'), 'utf8')).toBe('old, not replaced\n');
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('applied\n');
    expect(readFileSync(join(guardDir, 'outcome'), 'utf8')).toBe('rolled-back\n');
    // labgen comes too late (the config was applied long before): the guard decided
    writeFileSync(join(guardDir, 'applied'), '');
    expect(sh(confirmScript(guardDir)).stdout.toString()).toBe('rolled-back\n');

    const second = join(dir, 'cutover2');
    mkdirSync(second);
    writeFileSync(join(dir, 'net.conf'), 'new address\n');
    // an answer before the Pi applied the config proves nothing: not confirmed yet
    expect(sh(confirmScript(second)).stdout.toString()).toBe('pending\n');
    writeFileSync(join(second, 'applied'), '');
    expect(sh(confirmScript(second)).stdout.toString()).toBe('confirmed\n');
    expect(sh(guardScript(second, [{ file: cfg, why: ['content'] }], `echo applied >> ${join(dir, 'log')}`)).status).toBe(0);
    expect(readFileSync(join(dir, 'net.conf'), 'utf8')).toBe('new address\n');
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('applied\n');
  });
});

describe('cut-over timers without systemd (the sleep branch, run by the local sh)', () => {
  /** A PATH with what the sleep branch needs and no systemd-run: where systemd runs, it would be taken instead. */
  function noSystemdPath(): string {
    const bin = tmp('labgen-push-bin-');
    for (const tool of ['sh', 'setsid', 'sleep', 'cat', 'rm', 'mkdir'])
      execFileSync('ln', ['-s', execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool)]);
    return bin;
  }
  const gone = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
    } catch {
      return true;
    }
  };

  it('a guard whose folder a later push removed does nothing when it fires (no "cannot open …/guard.sh")', async () => {
    const dir = join(tmp(), 'cutover-token');
    mkdirSync(dir);
    writeFileSync(join(dir, 'guard.sh'), 'echo the guard ran\n');
    const log = join(tmp(), 'guard.log'); // outside the folder, to be read after it is gone
    const script = `${detached('labgen-guard-token', 300, `exec sh ${dir}/guard.sh`, dir, log)}\ncat ${dir}/pids\nrm -rf ${dir}`;
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: noSystemdPath() } });
    expect(r.status, r.stderr).toBe(0);
    const pid = Number(r.stdout.trim());
    expect(pid).toBeGreaterThan(1);
    const end = Date.now() + 20_000; // a bound, not a wait: the loop ends as soon as the guard has run
    while (!gone(pid) && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    expect(gone(pid)).toBe(true);
    expect(readFileSync(log, 'utf8')).toBe('');
  });
});

describe('report', () => {
  it("sums up setup.sh's closing line: what it installed, placed, enabled and started", () => {
    expect(setupSummary('setup (pi2): nothing to change')).toBe('setup.sh: nothing to change');
    expect(setupSummary('setup (pi2): changed: packages: munge slurmd /etc/munge/munge.key /etc/hosts enabled munge enabled slurmd started slurmd')).toBe(
      'setup.sh: installed munge slurmd; placed /etc/munge/munge.key, /etc/hosts; enabled munge, slurmd; started slurmd',
    );
    expect(setupSummary('setup (pi2): changed: /a /b /c /d /e')).toBe('setup.sh: placed /a, /b, /c, … (2 more)');
  });

  it('aligns the table and names each failure with its step, command, exit code and stderr', () => {
    expect(table(['a', 'bb'], [['xxx', 'y']])).toEqual(['a    bb', '---  --', 'xxx  y']);
    const failed: HostResult = {
      node: 'pi2',
      address: '10.0.0.3',
      ok: false,
      uploaded: [],
      handlers: [],
      ms: 1234,
      notes: [],
      failure: { host: 'pi2', step: 'setup.sh', message: 'x', command: 'bash /var/lib/labgen/setup.sh', code: 2, stderrTail: 'E: one\nE: two' },
    };
    expect(pushTable([failed], false)[2]).toBe('pi2   10.0.0.3  0      0         1.2s  FAILED (setup.sh)');
    expect(failureLines([failed])).toEqual(['pi2 (10.0.0.3): failed at setup.sh: `bash /var/lib/labgen/setup.sh` exited 2', '    E: one', '    E: two']);
    expect(new CommandError('pi2', 'upload', 'install 3 files', null, 'Connection lost').message).toBe('upload: `install 3 files` lost its connection: Connection lost');
  });
});

describe('labgen push: input it refuses before connecting', () => {
  const quietly = async <T>(f: () => Promise<T>) => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    return f();
  };
  const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as LabgenError);

  it('a lab folder not generated yet, an unknown Pi, a bad --concurrency', async () => {
    const dir = labDirFrom('rpi-slurm');
    temps.push(dir);
    const labFile = join(dir, 'lab.yaml');
    const stale = await errorOf(pushCommand([], { lab: labFile, io: { out: () => {}, err: () => {} } }));
    expect(stale).toBeInstanceOf(LabgenError);
    expect(stale!.code).toBe(EXIT.failure);
    expect(stale!.message).toMatch(/out of date with lab.yaml; nothing was pushed:\n.*pis\/node01\/setup.sh \(create\)/s);
    expect(stale!.hint).toContain('labgen generate');

    expect(await quietly(() => generate({ lab: labFile }))).toBe(EXIT.ok);
    const unknown = await errorOf(pushCommand(['node09'], { lab: labFile }));
    expect(unknown!.code).toBe(EXIT.badInput);
    expect(unknown!.message).toBe('not a Pi of this lab: node09');
    expect(unknown!.hint).toContain('node01, node02');
    expect((await errorOf(pushCommand([], { lab: labFile, concurrency: '0' })))!.code).toBe(EXIT.badInput);
    expect((await errorOf(pushCommand([], { lab: labFile, concurrency: 'many' })))!.code).toBe(EXIT.badInput);
  });
});
