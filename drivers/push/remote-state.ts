import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { shellQuote } from '../../generator/common/quote.js';
import type { Runner } from '../base/runner.js';

const { stamp: STAMP, pending: PENDING } = PI_STAGE;

/**
 * One round trip learns what a Pi holds: the sha256, mode and owner of every file push manages
 * that exists (a missing one has no entry), the setup stamp and the handlers still owed.
 * Read-only, so a dry run and `labgen status` use it as is.
 */

export interface RemoteFile {
  sha256: string;
  /** octal, as `stat -c %a` prints it (644, 4755) */
  mode: string;
  /** user:group */
  owner: string;
}

export interface RemoteState {
  /** present files by path; a missing file has no entry */
  files: Map<string, RemoteFile>;
  /** the stamp of the last setup.sh run that finished ('' if none) */
  stamp: string;
  /** handler ids owed from an earlier push */
  pending: string[];
}

/**
 * Two processes however many files (a process start is most of what a Pi spends here): one
 * `sha256sum` and one `stat` over the files that exist. sha256sum's lines are `<64 hex>  path`;
 * the others are tagged (M mode/owner, S stamp, P pending) so anything else a login shell prints
 * is ignored; a path is the rest of its line, so spaces in it survive.
 */
export function listingScript(paths: string[]): string {
  return [
    'set --',
    `for p in ${paths.map(shellQuote).join(' ')}; do [ -f "$p" ] && set -- "$@" "$p"; done`,
    'if [ "$#" -gt 0 ]; then',
    '  sha256sum -- "$@" || exit 1',
    "  stat -c 'M %a %U:%G %n' -- \"$@\" || exit 1",
    'fi',
    `if [ -f ${shellQuote(STAMP)} ]; then read -r s < ${shellQuote(STAMP)} || :; printf 'S %s\\n' "$s"; fi`,
    `if [ -f ${shellQuote(PENDING)} ]; then while read -r h || [ -n "$h" ]; do printf 'P %s\\n' "$h"; done < ${shellQuote(PENDING)}; fi`,
    'exit 0',
  ].join('\n');
}

export function parseListing(stdout: string): RemoteState {
  const state: RemoteState = { files: new Map(), stamp: '', pending: [] };
  const sums = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const sum = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    const meta = /^M (\d+) (\S+) (.+)$/.exec(line);
    if (sum) sums.set(sum[2]!, sum[1]!);
    else if (meta) state.files.set(meta[3]!, { sha256: '', mode: meta[1]!, owner: meta[2]! });
    else if (line.startsWith('S ')) state.stamp = line.slice(2).trim();
    else if (line.startsWith('P ') && line.slice(2).trim()) state.pending.push(line.slice(2).trim());
  }
  for (const [path, f] of state.files) {
    const sum = sums.get(path);
    if (sum) f.sha256 = sum;
    else state.files.delete(path); // stat saw it, sha256sum did not: not a whole answer, treat as missing
  }
  state.pending = [...new Set(state.pending)];
  return state;
}

export async function readRemoteState(remote: Runner, paths: string[]): Promise<RemoteState> {
  const out = await remote.run('read state', `sha256sum/stat of ${paths.length} files`, listingScript(paths));
  return parseListing(out);
}
