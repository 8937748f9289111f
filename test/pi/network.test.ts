/**
 * The network part of a Pi (issue #3): a static address in the format of the Pi's OS.
 *
 * - unit: which files each OS gets, with which modes and contents; the per-node OS override;
 *   the connection UUID is stable and per node;
 * - real dhcpcd: the bullseye dhcpcd.conf is handed to dhcpcd on a test host (its own network
 *   namespace and root) and the address, default route and resolv.conf are read back;
 * - real netplan: the trixie network-config is rendered by `netplan generate` into a
 *   NetworkManager keyfile, which must say what labgen's own keyfile says, field by field;
 * - real shellcheck on each Pi's setup.sh for every OS.
 *
 * Prerequisites go through test/support/prereq.ts: missing → skipped with one line, or a
 * failure under CI=true.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../generator/model/defaults.js';
import { validateLab } from '../../generator/model/load.js';
import { plan } from '../../generator/plan/index.js';
import { connectionUuid, piNetwork } from '../../generator/plan/pi/network.js';
import { type PiFile, piContexts } from '../../generator/plan/pi/part.js';
import { connectionName } from '../../generator/plan/pi/part.js';
import { marker } from '../../generator/common/quote.js';
import { FIXED_SECRETS, loadLabWith, type LabOverrides } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { run, startHosts, type TestHostGroup } from '../support/test-hosts.js';

const LAB_FILE = 'labs/rpi-slurm/lab.yaml';
const OSES = ['bullseye', 'bookworm', 'trixie'] as const;
type Os = (typeof OSES)[number];

const DHCPCD = '/etc/dhcpcd.conf';
const KEYFILE = '/etc/NetworkManager/system-connections/lab-eth0.nmconnection';
const NETWORK_CONFIG = '/network-config';

function planOf(overrides: LabOverrides) {
  const lab = loadLabWith(LAB_FILE, overrides);
  const files = plan(lab, FIXED_SECRETS);
  const byPath = new Map(files.map((f) => [f.path, f]));
  return {
    lab,
    files,
    /** the node's file at its path on the Pi (rootfs) or on the boot partition */
    rootfs: (node: string, path: string) => byPath.get(`pis/${node}/rootfs${path}`),
    boot: (node: string, path: string) => byPath.get(`pis/${node}/boot${path}`),
    setup: (node: string) => byPath.get(`pis/${node}/setup.sh`)!.contents,
  };
}

/**
 * The network part alone, for the tests that hand its files to real programs: they test these
 * files, not the rest of the plan (whose other parts may be mid-change).
 */
function networkPart(lab: Lab, node: string) {
  const part = piNetwork(piContexts(lab).find((c) => c.node.name === node)!);
  const find = (files: PiFile[] | undefined, path: string) => must(files?.find((f) => f.path === path), `${node} ${path}`);
  return { rootfs: (path: string) => find(part.files, path), boot: (path: string) => find(part.bootFiles, path) };
}

const must = <T>(f: T | undefined, what: string): T => {
  if (!f) throw new Error(`the plan has no ${what}`);
  return f;
};

// ---------------------------------------------------------------------------------------------
// a tiny INI reader for NetworkManager keyfiles (GLib key file: # comments, [group], key=value)
// ---------------------------------------------------------------------------------------------

type Ini = Record<string, Record<string, string>>;

function parseIni(text: string): Ini {
  const out: Ini = {};
  let group: Record<string, string> | undefined;
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const g = /^\[([^\]]+)\]$/.exec(line);
    if (g) {
      group = out[g[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 1 || !group) throw new Error(`keyfile line ${n + 1}: not "key=value" inside a [group]: ${raw}`);
    group[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** GLib list: "a;b;" → [a, b] */
const list = (v: string | undefined) => (v ?? '').split(';').filter(Boolean);

/**
 * What a keyfile means for IPv4, however it is spelled: the gateway may be the second part of
 * address1, a `gateway=` key, or a default route (netplan writes `route1=0.0.0.0/0,GW`).
 */
function ipv4Of(ini: Ini) {
  const v4 = ini.ipv4 ?? {};
  const [address, gatewayOfAddress] = (v4.address1 ?? '').split(',');
  const defaultRoute = Object.entries(v4)
    .filter(([k]) => /^route\d+$/.test(k))
    .map(([, v]) => v.split(','))
    .find(([dest]) => dest === '0.0.0.0/0');
  return {
    method: v4.method,
    address,
    gateway: gatewayOfAddress ?? v4.gateway ?? defaultRoute?.[1],
    dns: list(v4.dns),
    search: list(v4['dns-search']),
    interface: ini.connection?.['interface-name'],
  };
}

// ---------------------------------------------------------------------------------------------
// unit: the plan
// ---------------------------------------------------------------------------------------------

describe('pi network: the files each OS gets', () => {
  const EXPECTED: Record<Os, { rootfs: [string, number][]; boot: [string, number][]; absent: string[] }> = {
    bullseye: { rootfs: [[DHCPCD, 0o644]], boot: [], absent: [KEYFILE] },
    bookworm: { rootfs: [[KEYFILE, 0o600]], boot: [], absent: [DHCPCD] },
    trixie: { rootfs: [[KEYFILE, 0o600]], boot: [[NETWORK_CONFIG, 0o644]], absent: [DHCPCD] },
  };

  for (const os of OSES) {
    it(`${os}: every Pi gets its network file(s) with the right modes, and setup.sh applies them last`, () => {
      const p = planOf({ pis: { os } });
      for (const node of p.lab.pis.nodes) {
        for (const [path, mode] of EXPECTED[os].rootfs) expect(must(p.rootfs(node.name, path), `${node.name} ${path}`).mode).toBe(mode);
        for (const [path, mode] of EXPECTED[os].boot) expect(must(p.boot(node.name, path), `${node.name} boot${path}`).mode).toBe(mode);
        for (const path of EXPECTED[os].absent) expect(p.rootfs(node.name, path), `${node.name} ${path}`).toBeUndefined();
        if (os !== 'trixie') expect(p.boot(node.name, NETWORK_CONFIG)).toBeUndefined();

        const setup = p.setup(node.name);
        const apply = os === 'bullseye' ? 'systemctl restart dhcpcd' : `nmcli connection up ${connectionName(piContexts(p.lab)[0]!)}`;
        expect(setup).toContain(apply);
        // the network is applied after every other file is placed
        expect(setup.lastIndexOf('place ')).toBeLessThan(setup.indexOf(apply));
      }
    });
  }

  it('every network file starts with the labgen marker, has LF endings and a final newline', () => {
    for (const os of OSES) {
      const p = planOf({ pis: { os } });
      for (const f of [p.rootfs('node01', DHCPCD), p.rootfs('node01', KEYFILE), p.boot('node01', NETWORK_CONFIG)]) {
        if (!f) continue;
        expect(f.contents.startsWith(`${marker('#')}\n`), f.path).toBe(true);
        expect(f.contents, f.path).not.toContain('\r');
        expect(f.contents.endsWith('\n') && !f.contents.endsWith('\n\n'), f.path).toBe(true);
      }
    }
  });

  it('bullseye: the stock dhcpcd.conf directives, then seed 003\'s static stanza (lab DNS first)', () => {
    const text = must(planOf({ pis: { os: 'bullseye' } }).rootfs('node02', DHCPCD), 'dhcpcd.conf').contents;
    const directives = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(directives).toEqual([
      'hostname',
      'clientid',
      'persistent',
      'option rapid_commit',
      'option domain_name_servers, domain_name, domain_search, host_name',
      'option classless_static_routes',
      'option interface_mtu',
      'require dhcp_server_identifier',
      'slaac private',
      'interface eth0',
      'static ip_address=10.0.0.3/24',
      'static routers=10.0.0.1',
      'static domain_name_servers=10.0.0.21 8.8.8.8',
      'static domain_search=home.lab',
    ]);
  });

  it('bookworm: a NetworkManager keyfile that wins over "Wired connection 1"', () => {
    const p = planOf({ pis: { os: 'bookworm' } });
    const ini = parseIni(must(p.rootfs('node03', KEYFILE), 'keyfile').contents);
    expect(ini.connection).toEqual({
      id: connectionName(piContexts(p.lab)[2]!),
      uuid: connectionUuid('homelab', 'node03'),
      type: 'ethernet',
      'interface-name': 'eth0',
      autoconnect: 'true',
      'autoconnect-priority': '100',
    });
    expect(ini.ipv4).toEqual({
      method: 'manual',
      address1: '10.0.0.4/24,10.0.0.1',
      dns: '10.0.0.21;8.8.8.8;',
      'dns-search': 'home.lab;',
      'ignore-auto-dns': 'true',
    });
    expect(ini.ipv6).toEqual({ method: 'disabled' });
  });

  it('trixie: cloud-init network-config (netplan v2) says the same as the keyfile', () => {
    const p = planOf({ pis: { os: 'trixie' }, network: { dns: ['10.0.0.21', '10.0.0.22'], upstreamDns: ['1.1.1.1', '8.8.8.8'] } });
    const config = yaml.load(must(p.boot('node04', NETWORK_CONFIG), 'network-config').contents);
    expect(config).toEqual({
      network: {
        version: 2,
        renderer: 'NetworkManager',
        ethernets: {
          eth0: {
            dhcp4: false,
            addresses: ['10.0.0.5/24'],
            routes: [{ to: '0.0.0.0/0', via: '10.0.0.1' }],
            nameservers: { addresses: ['10.0.0.21', '10.0.0.22', '1.1.1.1', '8.8.8.8'], search: ['home.lab'] },
          },
        },
      },
    });
    expect(ipv4Of(parseIni(must(p.rootfs('node04', KEYFILE), 'keyfile').contents)).dns).toEqual(['10.0.0.21', '10.0.0.22', '1.1.1.1', '8.8.8.8']);
  });

  it('a node\'s os overrides pis.os for that node only', () => {
    const base = loadLabWith(LAB_FILE);
    const nodes = base.pis.nodes.map((n) => (n.name === 'node02' ? { ...n, os: 'bullseye' } : n.name === 'node03' ? { ...n, os: 'trixie' } : n));
    // Slurm on the bookworm Pis only: bullseye's Slurm and trixie's cannot share a cluster (rules.ts)
    const p = planOf({ pis: { os: 'bookworm', nodes }, slurm: { nodes: ['node04', 'node05'] } });
    expect(p.rootfs('node02', DHCPCD)).toBeDefined();
    expect(p.rootfs('node02', KEYFILE)).toBeUndefined();
    expect(p.setup('node02')).toContain('systemctl restart dhcpcd');
    expect(p.setup('node02')).toContain('(pis.nodes[1].os)');
    expect(p.boot('node03', NETWORK_CONFIG)).toBeDefined();
    expect(p.rootfs('node03', KEYFILE)).toBeDefined();
    for (const n of ['node01', 'node04', 'node05']) {
      expect(p.rootfs(n, KEYFILE), n).toBeDefined();
      expect(p.rootfs(n, DHCPCD), n).toBeUndefined();
      expect(p.boot(n, NETWORK_CONFIG), n).toBeUndefined();
      expect(p.setup(n)).not.toContain('systemctl restart dhcpcd');
    }
  });

  it('the connection UUID is a version-5 UUID, stable across runs and different per node', () => {
    const uuids = (overrides: LabOverrides) => {
      const p = planOf({ pis: { os: 'bookworm' }, ...overrides });
      return p.lab.pis.nodes.map((n) => parseIni(must(p.rootfs(n.name, KEYFILE), 'keyfile').contents).connection!.uuid!);
    };
    const first = uuids({});
    expect(uuids({})).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    for (const u of first) expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // pinned: a new algorithm would make every Pi's NetworkManager see a new connection
    expect(first[0]).toBe('b49c35b6-939b-574a-856a-8952c959cf0c');
    expect(connectionUuid('homelab', 'node01')).toBe(first[0]);
    // another lab with the same node names gets other UUIDs; an address change keeps them
    expect(uuids({ name: 'otherlab' })[0]).not.toBe(first[0]);
    expect(connectionUuid('otherlab', 'node01')).not.toBe(first[0]);
  });
});

// ---------------------------------------------------------------------------------------------
// real dhcpcd on a test host
// ---------------------------------------------------------------------------------------------

/** A one-Pi bullseye lab on the test group's subnet; the gateway and DNS are addresses nobody has. */
function bridgeLab(subnet: string): Lab {
  const net = subnet.split('.').slice(0, 3).join('.');
  return validateLab({
    version: 1,
    name: 'nettest',
    domain: 'net.test',
    network: { subnet, gateway: `${net}.254`, dns: [`${net}.253`], upstreamDns: [`${net}.252`] },
    cluster: { controlPlane: { ip: `${net}.200` }, workers: { count: 0 } },
    pis: { os: 'bullseye', interface: 'eth0', nodes: [{ name: 'pi1', ip: `${net}.50` }] },
  });
}

describeE2e(
  'pi network: real dhcpcd reads the bullseye dhcpcd.conf on a test host',
  { root: true, commands: ['ip', 'dhcpcd', 'sshd', 'ssh-keygen', 'unshare', 'nsenter', 'setpriv', 'tar', 'pidwait'] },
  () => {
    let group: TestHostGroup | undefined;
    beforeAll(async () => {
      group = await startHosts(1);
    });
    afterAll(async () => {
      // the host's PID namespace dies with it: a dhcpcd still running is killed, its netns deleted
      await group?.stopAll();
    });

    it('real dhcpcd sets the static address, the default route via the gateway and resolv.conf', async () => {
      const host = group!.hosts[0]!;
      const lab = bridgeLab(group!.subnet);
      const net = group!.subnet.split('.').slice(0, 3).join('.');
      const conf = networkPart(lab, 'pi1').rootfs(DHCPCD);
      // at its real path, in the host's own root only
      await host.writeFile(DHCPCD, { content: conf.contents, mode: conf.mode });

      // oneshot: configure, then exit (the file's `persistent` keeps the address); -w: wait for it
      const r = await host.exec('timeout 15 dhcpcd -4 -1 -w eth0');
      const shown = `exit ${r.code}\n${r.stdout}${r.stderr}`;
      expect(r.code, shown).toBe(0);
      expect(r.stderr, shown).toContain(`using static address ${net}.50/24`);

      const addr = await run('ip', ['-n', host.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      expect(addr.stdout).toContain(`inet ${net}.50/24`);
      const route = await run('ip', ['-n', host.netns, '-4', 'route', 'show', 'default']);
      expect(route.stdout).toMatch(new RegExp(`^default via ${net.replace(/\./g, '\\.')}\\.254 dev eth0`, 'm'));
      // no resolvconf here: dhcpcd's 20-resolv.conf hook writes the file itself
      const resolv = await host.readFile('/etc/resolv.conf');
      expect(resolv).toContain('Generated by dhcpcd');
      expect(resolv.match(/^nameserver .*$/gm)).toEqual([`nameserver ${net}.253`, `nameserver ${net}.252`]);
      expect(resolv).toMatch(/^search net\.test$/m);

      // the oneshot dhcpcd exits once eth0 is configured, but its -w parent returns first (under
      // load its other processes are still exiting then): wait on them (pidwait: a pidfd each, no
      // polling, no sleep; it returns at once when none is left), then none may still run (a
      // zombie its parent has not reaped yet has exited: it does not count)
      const left = await host.exec('pidwait -x dhcpcd; ps -eo stat=,comm= | awk \'$2 == "dhcpcd" && $1 !~ /^Z/\'');
      expect(left.stdout + left.stderr).toBe('');
      // take the default route out of the namespace again
      await run('ip', ['-n', host.netns, '-4', 'route', 'del', 'default']);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// real netplan: network-config → NetworkManager keyfile, compared with labgen's keyfile
// ---------------------------------------------------------------------------------------------

describeE2e('pi network: real netplan generate renders the trixie network-config', { commands: ['netplan'] }, () => {
  const lab = loadLabWith(LAB_FILE, { pis: { os: 'trixie' }, network: { dns: ['10.0.0.21', '10.0.0.22'], upstreamDns: ['1.1.1.1', '8.8.8.8'] } });
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labgen-netplan-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function netplanGenerate(name: string, config: string) {
    const root = join(dir, name);
    await mkdir(join(root, 'etc/netplan'), { recursive: true });
    const file = join(root, 'etc/netplan/50-lab.yaml');
    await writeFile(file, config);
    await chmod(file, 0o600);
    const r = await run('netplan', ['generate', '--root-dir', root]);
    return { root, r, shown: `exit ${r.code}\n${r.stdout}${r.stderr}` };
  }

  for (const node of ['node01', 'node05']) {
    it(`${node}: netplan's keyfile and labgen's keyfile agree field by field`, async () => {
      const files = networkPart(lab, node);
      const { root, r, shown } = await netplanGenerate(node, files.boot(NETWORK_CONFIG).contents);
      expect(r.code, shown).toBe(0);
      const out = join(root, 'run/NetworkManager/system-connections');
      const rendered = (await readdir(out)).filter((f) => f.endsWith('.nmconnection'));
      expect(rendered, shown).toEqual(['netplan-eth0.nmconnection']);

      const fromNetplan = ipv4Of(parseIni(await readFile(join(out, rendered[0]!), 'utf8')));
      const fromLabgen = ipv4Of(parseIni(files.rootfs(KEYFILE).contents));
      const ip = lab.pis.nodes.find((n) => n.name === node)!.ip;
      expect(fromLabgen).toEqual({
        method: 'manual',
        address: `${ip}/24`,
        gateway: '10.0.0.1',
        dns: ['10.0.0.21', '10.0.0.22', '1.1.1.1', '8.8.8.8'],
        search: ['home.lab'],
        interface: 'eth0',
      });
      for (const field of ['method', 'address', 'gateway', 'dns', 'search', 'interface'] as const) {
        expect(fromNetplan[field], `${field} (netplan) vs labgen`).toEqual(fromLabgen[field]);
      }
    });
  }

  it('rejects a broken copy (a misspelt key, a bad gateway)', async () => {
    const good = networkPart(lab, 'node01').boot(NETWORK_CONFIG).contents;
    const misspelt = await netplanGenerate('broken-key', good.replace('dhcp4:', 'dhcp_4:'));
    expect(misspelt.r.code, misspelt.shown).not.toBe(0);
    expect(misspelt.r.stderr).toContain("unknown key 'dhcp_4'");
    const badGateway = await netplanGenerate('broken-gateway', good.replace('via: 10.0.0.1', 'via: 10.0.0.300'));
    expect(badGateway.r.code, badGateway.shown).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// real shellcheck on setup.sh, every OS
// ---------------------------------------------------------------------------------------------

describeE2e('pi network: pis/*/setup.sh passes real shellcheck for every OS', { commands: ['shellcheck'] }, () => {
  for (const os of OSES) {
    it.concurrent(`${os}: shellcheck -S warning -f gcc on every setup.sh`, async ({ expect }) => {
      const p = planOf({ pis: { os } });
      const scripts = p.files.filter((f) => /^pis\/[^/]+\/setup\.sh$/.test(f.path));
      expect(scripts.length).toBe(p.lab.pis.nodes.length);
      for (const f of scripts) {
        const r = await run('shellcheck', ['-S', 'warning', '-f', 'gcc', '-s', 'bash', '-'], { input: f.contents });
        expect(r.stdout + r.stderr, `${f.path}: exit ${r.code}`).toBe('');
        expect(r.code, f.path).toBe(0);
      }
    });
  }
});
