import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../generator/common/atomic.js';
import { LABGEN_DIR, STATE_FILE } from '../../generator/common/layout.js';

/**
 * .labgen/state.json: per Pi, the address it last answered at: after a push (a finished one, or
 * a confirmed network cut-over), or where adopt found it (a stock Pi on a DHCP address). When
 * lab.yaml gives a Pi a new address, this is where the Pi still is until push moves it.
 */

export interface AddressState {
  nodes: Record<string, { address: string }>;
}

export function readState(labDir: string): AddressState {
  const file = join(labDir, STATE_FILE);
  if (!existsSync(file)) return { nodes: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<AddressState>;
    return { nodes: parsed.nodes && typeof parsed.nodes === 'object' ? parsed.nodes : {} };
  } catch {
    return { nodes: {} }; // unreadable: the lab's addresses are tried, as on a first push
  }
}

/** Merge `addresses` into the file (re-read first, so Pis not pushed now keep theirs); sorted, stable. */
export function recordAddresses(labDir: string, addresses: Record<string, string>): void {
  if (Object.keys(addresses).length === 0) return;
  const state = readState(labDir);
  for (const [node, address] of Object.entries(addresses)) state.nodes[node] = { address };
  const nodes = Object.fromEntries(Object.entries(state.nodes).sort(([a], [b]) => (a < b ? -1 : 1)));
  mkdirSync(join(labDir, LABGEN_DIR), { recursive: true });
  writeFileAtomic(join(labDir, STATE_FILE), `${JSON.stringify({ nodes }, null, 2)}\n`, 0o644);
}
