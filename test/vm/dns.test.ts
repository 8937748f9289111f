/**
 * Lab DNS on the VMs: provision/common.sh places and runs provision/files/usr/local/sbin/labgen-lab-dns,
 * which configures the resolver the way the box's OS does it, found out on the VM. The helper is
 * run for real on test hosts (network namespaces with their own root, test/support/test-hosts.ts)
 * and the lab domain is then resolved through the host's real glibc resolver, answered by a small
 * DNS responder on the test bridge (the lab DNS). No systemd runs as PID 1 on a test host, so
 * `systemctl` is a test-host stand-in that knows which units are installed, and `resolvconf` is a
 * stand-in too (not installed here); each records its calls in /var/log/standin.log.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateLab } from '../../generator/model/load.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import { plan } from '../../generator/plan/index.js';
import { FIXED_SECRETS } from '../support/fixed-secrets.js';
import { planLab } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { RESOLVCONF, SYSTEMCTL_KNOWN_UNITS } from '../support/standins.js';
import { startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';

const HELPER = 'provision/files/usr/local/sbin/labgen-lab-dns';
const ROOTFS = 'provision/files/';
const RUN = `PATH=/usr/local/sbin:/usr/local/bin:$PATH bash /vagrant/${HELPER}`;

describe('common.sh hands lab DNS to labgen-lab-dns', () => {
  for (const file of ['labs/rpi-slurm/lab.yaml', 'labs/minimal/lab.yaml']) {
    const { files } = planLab(file);
    const common = files.find((f) => f.path === 'provision/common.sh')!.contents;
    it(`${file}: common.sh places the helper 0755 and runs it; it restarts no systemd-resolved itself`, () => {
      expect(common).toMatch(/^place \/usr\/local\/sbin\/labgen-lab-dns 0755\n\/usr\/local\/sbin\/labgen-lab-dns "\$rootfs"$/m);
      expect(common).not.toMatch(/(restart_if_changed|systemctl [a-z-]+) systemd-resolved/);
      expect(files.find((f) => f.path === HELPER)?.mode).toBe(0o755);
    });
    it(`${file}: every file the helper places is in the plan`, () => {
      const helper = files.find((f) => f.path === HELPER)!.contents;
      const placed = [...helper.matchAll(/^\s*place (\S+) 0644$/gm)].map((m) => m[1]!);
      expect(placed.sort()).toEqual(
        [
          '/etc/dhcp/dhclient-enter-hooks.d/labgen-lab-dns',
          '/etc/NetworkManager/conf.d/90-labgen-dns.conf',
          '/etc/resolv.conf',
          '/etc/resolvconf/resolv.conf.d/head',
          '/etc/systemd/resolved.conf.d/lab.conf',
        ].sort(),
      );
      for (const p of placed) expect(files.some((f) => f.path === `provision/files${p}`), p).toBe(true);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// a tiny DNS responder (RFC 1035): A records for names in the lab domain, NXDOMAIN otherwise
// ---------------------------------------------------------------------------------------------

function qname(msg: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (msg[i]! !== 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString('latin1'));
    i += msg[i]! + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function answer(msg: Buffer, domain: string, ip: string): Buffer {
  const { name, end } = qname(msg);
  const qtype = msg.readUInt16BE(end);
  const question = msg.subarray(12, end + 4);
  const inLab = name === domain || name.endsWith(`.${domain}`);
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | (inLab ? 0 : 3), 2); // response, recursion desired + available; NXDOMAIN outside the lab
  header.writeUInt16BE(1, 4);
  const records: Buffer[] = [];
  if (inLab && qtype === 1) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name in the question
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, k) => rr.writeUInt8(Number(o), 12 + k));
    records.push(rr);
  }
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, question, ...records]);
}

async function startResponder(bindIp: string, domain: string, ip: string): Promise<Socket> {
  const sock = createSocket('udp4');
  sock.on('message', (msg, from) => {
    try {
      sock.send(answer(msg, domain, ip), from.port, from.address);
    } catch {
      /* not a query we understand: no answer */
    }
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(53, bindIp, () => resolve());
  });
  return sock;
}

// ---------------------------------------------------------------------------------------------
// the helper, run for real on test hosts
// ---------------------------------------------------------------------------------------------

const PROBE_IP = '192.0.2.53';
const SCENARIOS = ['debian12', 'resolved', 'nm', 'resolvconf'] as const;

describeE2e(
  'labgen-lab-dns on test hosts (systemctl and resolvconf are test-host stand-ins: no systemd here)',
  { root: true, commands: ['ip', 'sshd', 'unshare', 'nsenter', 'setpriv', 'tar', 'getent'] },
  () => {
    let group: TestHostGroup;
    let files: FileSpec[];
    let responder: Socket | undefined;
    const generated = (path: string) => files.find((f) => f.path === `${ROOTFS}${path.slice(1)}`)!.contents;
    const log = async (host: TestHost) => (await host.exec('cat /var/log/standin.log 2>/dev/null || true')).stdout;

    beforeAll(async () => {
      group = await startHosts(SCENARIOS.length, {
        names: [...SCENARIOS],
        files: (h) => ({
          '/usr/local/sbin/systemctl': { content: SYSTEMCTL_KNOWN_UNITS, mode: 0o755 },
          // what each box runs: Debian 12 (generic/debian12) neither resolved nor NetworkManager
          ...(h.name === 'resolved' ? { '/var/lib/standin/unit-systemd-resolved': '', '/var/lib/standin/active-systemd-resolved': '' } : {}),
          ...(h.name === 'nm' ? { '/var/lib/standin/unit-NetworkManager': '', '/var/lib/standin/active-NetworkManager': '' } : {}),
          ...(h.name === 'resolvconf' ? { '/usr/local/sbin/resolvconf': { content: RESOLVCONF, mode: 0o755 } } : {}),
        }),
      });
      const base = group.subnet.replace(/\.0\/24$/, '');
      const lab = validateLab({
        version: 1,
        name: 'dnslab',
        domain: 'test.lab',
        network: { subnet: group.subnet, gateway: group.bridgeIp, dns: [group.bridgeIp] },
        cluster: { controlPlane: { name: 'cp', ip: `${base}.200` }, workers: { count: 0 } },
        pis: { os: 'bookworm', nodes: [{ name: 'pi1', ip: `${base}.201`, roles: ['compute'] }] },
        services: { metallb: { addresses: [`${base}.100-${base}.120`] }, coredns: { ip: `${base}.100` } },
        slurm: { controller: 'pi1', nodes: ['pi1'] },
      });
      files = plan(lab, FIXED_SECRETS);
      for (const h of group.hosts)
        for (const f of files.filter((x) => x.path.startsWith(ROOTFS))) await h.writeFile(`/vagrant/${f.path}`, { content: f.contents, mode: f.mode });
      responder = await startResponder(group.bridgeIp, 'test.lab', PROBE_IP);
    }, 60_000);
    afterAll(async () => {
      responder?.close();
      await group?.stopAll();
    });

    it('the stand-in systemctl fails as the real one does for a unit that is not installed', async () => {
      const r = await group.host('debian12').exec('systemctl restart systemd-resolved');
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('Unit systemd-resolved.service not found.');
    });

    it('Debian 12 (no systemd-resolved, no NetworkManager, no resolvconf): writes /etc/resolv.conf, lab names resolve through the lab DNS, a second run changes nothing', async () => {
      const host = group.host('debian12');
      await host.exec(': > /var/log/standin.log; rm -f /etc/resolv.conf && ln -s /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf'); // a dangling stub, as an image may leave it
      const first = await host.exec(RUN);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^lab dns \(\/etc\/resolv\.conf\): changed: .*\/etc\/resolv\.conf/m);
      expect((await host.exec('test -L /etc/resolv.conf || echo file')).stdout.trim()).toBe('file');
      expect(await host.readFile('/etc/resolv.conf')).toBe(generated('/etc/resolv.conf'));
      expect(await host.readFile('/etc/resolv.conf')).toMatch(new RegExp(`^nameserver ${group.bridgeIp.replace(/\./g, '\\.')}$`, 'm'));
      // the dhclient hook goes where dhclient is (its hooks folder), and nowhere else
      const hooks = (await host.exec('test -d /etc/dhcp/dhclient-enter-hooks.d')).code === 0;
      const hook = await host.exec('cat /etc/dhcp/dhclient-enter-hooks.d/labgen-lab-dns');
      if (hooks) expect(hook.stdout).toBe(generated('/etc/dhcp/dhclient-enter-hooks.d/labgen-lab-dns'));
      else expect(hook.code).not.toBe(0);

      // the real resolver: a short name through the search domain, a full one, to the lab DNS
      for (const name of ['probe', 'api.test.lab']) {
        const r = await host.exec(`getent ahostsv4 ${name}`);
        expect(r.code, `getent ahostsv4 ${name}: ${r.stderr}`).toBe(0);
        expect(r.stdout.split(/\s+/)[0]).toBe(PROBE_IP);
      }
      expect(await log(host)).not.toMatch(/systemctl (restart|start|reload)/);

      const second = await host.exec(RUN);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout.trim()).toBe('lab dns (/etc/resolv.conf): nothing to change');
    });

    it('systemd-resolved active (stand-in): places the resolved.conf.d drop-in and restarts resolved, once', async () => {
      const host = group.host('resolved');
      const resolvConf = await host.readFile('/etc/resolv.conf');
      const first = await host.exec(RUN);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout.trim()).toBe('lab dns (systemd-resolved): changed: /etc/systemd/resolved.conf.d/lab.conf');
      expect(await host.readFile('/etc/systemd/resolved.conf.d/lab.conf')).toBe(generated('/etc/systemd/resolved.conf.d/lab.conf'));
      expect((await log(host)).split('\n')).toContain('systemctl restart systemd-resolved');
      expect(await host.readFile('/etc/resolv.conf'), 'resolved owns resolv.conf').toBe(resolvConf);

      const before = await log(host);
      const second = await host.exec(RUN);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout.trim()).toBe('lab dns (systemd-resolved): nothing to change');
      expect((await log(host)).slice(before.length)).not.toMatch(/restart/);
    });

    it('NetworkManager active (stand-in): places its global DNS in conf.d and reloads it, once', async () => {
      const host = group.host('nm');
      const first = await host.exec(RUN);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout.trim()).toBe('lab dns (NetworkManager): changed: /etc/NetworkManager/conf.d/90-labgen-dns.conf');
      const conf = await host.readFile('/etc/NetworkManager/conf.d/90-labgen-dns.conf');
      expect(conf).toBe(generated('/etc/NetworkManager/conf.d/90-labgen-dns.conf'));
      expect(conf).toMatch(new RegExp(`^servers=${group.bridgeIp.replace(/\./g, '\\.')},`, 'm'));
      expect(conf).toMatch(/^searches=test\.lab$/m);
      expect((await log(host)).split('\n')).toContain('systemctl reload NetworkManager');
      const second = await host.exec(RUN);
      expect(second.stdout.trim()).toBe('lab dns (NetworkManager): nothing to change');
    });

    it('resolvconf installed (stand-in): places resolv.conf.d/head and runs resolvconf -u; lab names resolve', async () => {
      const host = group.host('resolvconf');
      const first = await host.exec(RUN);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout.trim()).toBe('lab dns (resolvconf): changed: /etc/resolvconf/resolv.conf.d/head');
      expect((await log(host)).split('\n')).toContain('resolvconf -u');
      const r = await host.exec('getent ahostsv4 probe');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split(/\s+/)[0]).toBe(PROBE_IP);
      const second = await host.exec(RUN);
      expect(second.stdout.trim()).toBe('lab dns (resolvconf): nothing to change');
    });
  },
);
