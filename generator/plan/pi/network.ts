import { createHash } from 'node:crypto';
import { parseSubnet } from '../../model/ip.js';
import { MODE } from '../file-spec.js';
import { connectionName, type PiContext, type PiFile, type PiPlanner } from './part.js';
import { marker, shellQuote } from '../../common/quote.js';
import { render } from '../support/render.js';
import { toYaml } from '../support/yaml.js';

/**
 * A Pi's static address in the format of its OS (seed 003's dhcpcd.conf stanza, per release):
 * bullseye → /etc/dhcpcd.conf; bookworm → a NetworkManager keyfile; trixie → cloud-init's
 * network-config (netplan v2) on the boot partition plus the same keyfile for a running Pi.
 * setup.sh applies the network last (`network: true`), with `applyNetwork`'s commands, and so
 * does push's cut-over (the one source of them).
 */

/** Fixed namespace of labgen's connection UUIDs (name-based, RFC 9562 version 5). */
const UUID_NAMESPACE = 'f988b219-50b9-4951-b5a0-1944f4deb35d';

/** Same lab and node name → same UUID, so regenerating never makes NetworkManager see a new connection. */
export function connectionUuid(labName: string, nodeName: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(UUID_NAMESPACE.replace(/-/g, ''), 'hex'))
    .update(`${labName}/${nodeName}`)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What every format says: address/prefix, gateway, DNS servers (lab DNS first), search domain. */
function staticIp({ lab, node }: PiContext) {
  return {
    iface: lab.pis.interface,
    address: `${node.ip}/${parseSubnet(lab.network.subnet).prefix}`,
    gateway: lab.network.gateway,
    dns: [...new Set([...lab.network.dns, ...lab.network.upstreamDns])],
    domain: lab.domain,
  };
}

/** bullseye: the stock dhcpcd.conf directives plus the static stanza. */
function dhcpcdConf(ctx: PiContext): PiFile {
  return { path: '/etc/dhcpcd.conf', mode: MODE.file, contents: render('pis/rootfs/etc/dhcpcd.conf', { node: ctx.node.name, ...staticIp(ctx) }) };
}

/** bookworm and trixie: a NetworkManager keyfile (nm-settings-keyfile(5); lists end with ";"). */
function nmKeyfile(ctx: PiContext): PiFile {
  const ip = staticIp(ctx);
  const sections: Record<string, Record<string, string>> = {
    connection: {
      id: connectionName(ctx),
      uuid: connectionUuid(ctx.lab.name, ctx.node.name),
      type: 'ethernet',
      'interface-name': ip.iface,
      autoconnect: 'true',
      // above the stock "Wired connection 1" (priority 0 or lower)
      'autoconnect-priority': '100',
    },
    ethernet: {},
    ipv4: {
      method: 'manual',
      address1: `${ip.address},${ip.gateway}`,
      dns: `${ip.dns.join(';')};`,
      'dns-search': `${ip.domain};`,
      'ignore-auto-dns': 'true',
    },
    ipv6: { method: 'disabled' },
  };
  const body = Object.entries(sections)
    .map(([name, keys]) => [`[${name}]`, ...Object.entries(keys).map(([k, v]) => `${k}=${v}`)].join('\n'))
    .join('\n\n');
  return { path: `/etc/NetworkManager/system-connections/${connectionName(ctx)}.nmconnection`, mode: MODE.private, contents: `${marker('#')}\n\n${body}\n` };
}

/** trixie: cloud-init's network-config (netplan v2) for the image's boot partition. */
function networkConfig(ctx: PiContext): PiFile {
  const ip = staticIp(ctx);
  const network = {
    version: 2,
    renderer: 'NetworkManager',
    ethernets: {
      [ip.iface]: {
        dhcp4: false,
        addresses: [ip.address],
        // 0.0.0.0/0, not netplan's `default`: cloud-init before 25.3 renders `default` as an invalid
        // address when it writes the NetworkManager profile itself (canonical/cloud-init#6391)
        routes: [{ to: '0.0.0.0/0', via: ip.gateway }],
        nameservers: { addresses: ip.dns, search: [ip.domain] },
      },
    },
  };
  return { path: '/network-config', mode: MODE.file, contents: toYaml([{ network }], marker('#')) };
}

/**
 * The commands that apply a changed network config, per OS, in order (each must succeed), and
 * that return once it is in effect: `nmcli connection up` waits for the activation; dhcpcd's
 * restart returns before dhcpcd reconfigured the interface, so a second is given to it. setup.sh
 * runs them one per line; push joins them with `&&`, and confirms a cut-over only after they
 * returned.
 */
export function applyNetwork(ctx: PiContext): string[] {
  return ctx.os === 'bullseye' ? ['systemctl restart dhcpcd', 'sleep 1'] : ['nmcli connection reload', `nmcli connection up ${shellQuote(connectionName(ctx))}`];
}

// firstBoot: the image holds the static address from the start, so the Pi is at its lab address
// (where push and known_hosts expect it) on its first boot
export const piNetwork: PiPlanner = (ctx) => {
  switch (ctx.os) {
    case 'bullseye':
      return { network: true, firstBoot: true, files: [dhcpcdConf(ctx)] };
    case 'bookworm':
      return { network: true, firstBoot: true, files: [nmKeyfile(ctx)] };
    case 'trixie':
      return { network: true, firstBoot: true, files: [nmKeyfile(ctx)], bootFiles: [networkConfig(ctx)] };
  }
};
