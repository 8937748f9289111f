import { shellQuote } from '../../generator/plan/quote.js';
import type { Remote } from './connection.js';
import { PENDING, STAMP } from './plan.js';

/**
 * One round trip learns what a Pi holds: one shell command prints `sha256 mode owner path` for
 * every file push manages (`- - - path` for a missing one), the setup stamp and the handlers
 * still owed. Read-only, so a dry run and `labgen status` use it as is.
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
 * Lines are tagged (F file, S stamp, P pending) so anything else a login shell prints is
 * ignored; a path is the rest of its line, so spaces in it survive.
 */
export function listingScript(paths: string[]): string {
  return [
    `for p in ${paths.map(shellQuote).join(' ')}; do`,
    '  if [ -f "$p" ]; then',
    '    s=$(sha256sum < "$p") && m=$(stat -c \'%a %U:%G\' -- "$p") || exit 1',
    '    printf \'F %s %s %s\\n\' "${s%% *}" "$m" "$p"',
    '  else',
    '    printf \'F - - - %s\\n\' "$p"',
    '  fi',
    'done',
    `[ -f ${shellQuote(STAMP)} ] && printf 'S %s\\n' "$(cat ${shellQuote(STAMP)})"`,
    `[ -f ${shellQuote(PENDING)} ] && sed 's/^/P /' ${shellQuote(PENDING)}`,
    'exit 0',
  ].join('\n');
}

export function parseListing(stdout: string): RemoteState {
  const state: RemoteState = { files: new Map(), stamp: '', pending: [] };
  for (const line of stdout.split('\n')) {
    if (line.startsWith('F ')) {
      const m = /^F (\S+) (\S+) (\S+) (.+)$/.exec(line);
      if (m && m[1] !== '-') state.files.set(m[4]!, { sha256: m[1]!, mode: m[2]!, owner: m[3]! });
    } else if (line.startsWith('S ')) state.stamp = line.slice(2).trim();
    else if (line.startsWith('P ') && line.slice(2).trim()) state.pending.push(line.slice(2).trim());
  }
  state.pending = [...new Set(state.pending)];
  return state;
}

export async function readRemoteState(remote: Remote, paths: string[]): Promise<RemoteState> {
  const out = await remote.run('read state', `sha256sum/stat of ${paths.length} files`, listingScript(paths));
  return parseListing(out);
}
