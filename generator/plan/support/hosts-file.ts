import type { Lab } from '../../model/defaults.js';
import { hostsEntries } from '../../model/hosts.js';
import { marker } from '../../common/quote.js';

/**
 * The lab's hosts entries between BEGIN/END lines, so a script can swap the block in a
 * system hosts file without touching the rest. VMs, Pis and the laptop all get this text.
 */
export function hostsBlock(lab: Lab): string {
  let block = blocks.get(lab);
  if (block === undefined) {
    const entries = hostsEntries(lab);
    const width = Math.max(...entries.map((e) => e.ip.length));
    const lines = entries.map((e) => `${e.ip.padEnd(width)}  ${e.names.join(' ')}`);
    block = ['# BEGIN labgen', marker('#'), ...lines, '# END labgen', ''].join('\n');
    blocks.set(lab, block);
  }
  return block;
}

/** Every Pi, VM and the laptop gets the same block: made once per lab, not once per host (500 Pis). */
const blocks = new WeakMap<Lab, string>();

/** Windows reads one name per line most reliably, with CRLF endings. */
export function hostsBlockWindows(lab: Lab): string {
  const lines = hostsEntries(lab).flatMap((e) => e.names.map((n) => `${e.ip} ${n}`));
  return ['# BEGIN labgen', ...marker('#').split('\n'), ...lines, '# END labgen', ''].join('\r\n');
}
