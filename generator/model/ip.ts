import ipaddr from 'ipaddr.js';

/** IPv4 addresses as unsigned 32-bit integers: ranges and subnets become plain comparisons. */

export function isIPv4(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

export function ipToInt(s: string): number {
  const b = ipaddr.IPv4.parse(s).toByteArray();
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Range {
  first: number;
  last: number;
}

export interface Subnet extends Range {
  cidr: string;
  prefix: number;
  network: number;
  broadcast: number;
}

export function isCidr(s: string): boolean {
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s)) return false;
  const [ip, bits] = s.split('/') as [string, string];
  return isIPv4(ip) && Number(bits) >= 0 && Number(bits) <= 32;
}

/** The usable host range of a subnet: network and broadcast addresses excluded (except /31, /32). */
export function parseSubnet(cidr: string): Subnet {
  const [addr, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ipToInt(addr.toString()) / size) * size;
  const broadcast = network + size - 1;
  const hosts = prefix >= 31 ? { first: network, last: broadcast } : { first: network + 1, last: broadcast - 1 };
  return { cidr, prefix, network, broadcast, ...hosts };
}

/** Whether a CIDR is written with its network address (10.0.0.0/24, not 10.0.0.5/24). */
export function isNetworkAddress(cidr: string): boolean {
  const s = parseSubnet(cidr);
  return ipToInt(cidr.split('/')[0]!) === s.network;
}

/** "a-b" or a CIDR, as MetalLB writes its address pools. */
export function parseRange(s: string): Range | undefined {
  if (isCidr(s)) {
    const n = parseSubnet(s);
    return { first: n.network, last: n.broadcast };
  }
  const m = /^\s*([\d.]+)\s*-\s*([\d.]+)\s*$/.exec(s);
  if (!m || !isIPv4(m[1]!) || !isIPv4(m[2]!)) return undefined;
  const first = ipToInt(m[1]!);
  const last = ipToInt(m[2]!);
  return first <= last ? { first, last } : undefined;
}

export function inRange(ip: number, r: Range): boolean {
  return ip >= r.first && ip <= r.last;
}

export function overlaps(a: Range, b: Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function rangeText(r: Range): string {
  return `${intToIp(r.first)}-${intToIp(r.last)}`;
}
