import type { Lab } from '../model/defaults.js';
import { hostsEntries } from '../model/hosts.js';
import { marker } from './quote.js';

/**
 * The lab's hosts entries between BEGIN/END lines, so a script can swap the block in a
 * system hosts file without touching the rest. VMs, Pis and the laptop all get this text.
 */
export function hostsBlock(lab: Lab): string {
  const width = Math.max(...hostsEntries(lab).map((e) => e.ip.length));
  const lines = hostsEntries(lab).map((e) => `${e.ip.padEnd(width)}  ${e.names.join(' ')}`);
  return ['# BEGIN labgen', marker('#'), ...lines, '# END labgen', ''].join('\n');
}

/** Windows reads one name per line most reliably, with CRLF endings. */
export function hostsBlockWindows(lab: Lab): string {
  const lines = hostsEntries(lab).flatMap((e) => e.names.map((n) => `${e.ip} ${n}`));
  return ['# BEGIN labgen', ...marker('#').split('\n'), ...lines, '# END labgen', ''].join('\r\n');
}
