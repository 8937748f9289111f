import { tempName } from '../../generator/common/atomic.js';
import { octal } from '../../generator/common/text.js';
import { posix } from 'node:path';
import { pack } from 'tar-stream';
import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { shellQuote as q } from '../../generator/common/quote.js';
import type { Runner } from '../base/runner.js';
import { newToken } from '../base/token.js';
import type { DesiredFile } from './plan.js';

const { dir: STAGE, secrets: SECRETS, pending: PENDING } = PI_STAGE;

/**
 * Uploads in one command per batch: the files' bytes arrive on stdin as one tar stream of temp
 * files, each beside its target, which one `tar` unpacks; one `sha256sum -c` checks them all, and
 * they get their modes and owners. Only when every file of the batch arrived whole are they
 * renamed into place, each keeping the version it replaces as `<file>.labgen-prev`. A connection
 * cut at any point leaves every target as it was or as it should be, never half-written; the
 * temps are removed. A process start is most of what a Pi spends on a small file, so the work is
 * batched: a handful of processes per batch, plus one rename per file (and a link per replaced one).
 */

/** `/etc/.hosts.labgen-new-<token>`: beside the target (same filesystem: rename is atomic), unique per push. */
export function remoteTempPath(target: string, token: string): string {
  return posix.join(posix.dirname(target), tempName(posix.basename(target), 'new', token));
}

export interface InstallHooks {
  /** runs after every file arrived and before the first rename (the cut-over starts its guard here) */
  beforePlace?: string;
  /** runs after the renames */
  afterPlace?: string;
  /** handler ids to record as owed, with the renames */
  owed?: string[];
}

/** Folders to create, only if one is missing: secrets/ is root's alone, everything else is readable. */
function folders(files: DesiredFile[]): string[] {
  const dirs = [...new Set(files.map((f) => posix.dirname(f.path)))].sort();
  const secretDir = SECRETS;
  const open = dirs.filter((d) => d !== secretDir);
  const missing = (ds: string[]) => ds.map((d) => `[ -d ${q(d)} ]`).join(' && ');
  return [
    ...(open.length ? [`${missing(open)} || { umask 022; mkdir -p -- ${open.map(q).join(' ')}; umask 077; }`] : []),
    ...(dirs.includes(secretDir) ? [`${missing([secretDir])} || mkdir -p -m 0700 -- ${q(secretDir)}`] : []),
  ];
}

/** place TMP TARGET: atomic rename; the replaced version stays as TARGET.labgen-prev (a hard link, no copy) */
const PLACE = `place() {
  if [ -e "$2" ]; then ln -f -- "$2" "$2.labgen-prev"; elif [ -e "$2.labgen-prev" ]; then rm -f -- "$2.labgen-prev"; fi
  mv -fT -- "$1" "$2"
}`;

const CUT = '{ echo "labgen: the files did not arrive whole (connection cut?)" >&2; exit 1; }';

/** one command per distinct value of `key` (a mode, an owner), with all the temps that have it */
function grouped(cmd: string, files: DesiredFile[], temps: string[], key: (f: DesiredFile) => string): string[] {
  const by = new Map<string, string[]>();
  files.forEach((f, i) => {
    const k = key(f);
    if (!by.has(k)) by.set(k, []);
    by.get(k)!.push(q(temps[i]!));
  });
  return [...by].map(([k, ts]) => `${cmd} ${q(k)} ${ts.join(' ')}`);
}

/** The batch's script; its stdin must be `payload(files, token)`. */
export function installScript(files: DesiredFile[], token: string, hooks: InstallHooks = {}): string {
  // the checksum list is a here-document read by sha256sum, which escapes such names
  const odd = files.find((f) => /[\n\r\\]/.test(f.path));
  if (odd) throw new Error(`labgen bug: cannot push a path with a newline or backslash: ${JSON.stringify(odd.path)}`);
  const temps = files.map((f) => remoteTempPath(f.path, token));
  const receive = files.length
    ? [
        ...files.map((f) => `[ ! -d ${q(f.path)} ] || { echo "labgen: "${q(f.path)}" is a folder" >&2; exit 1; }`),
        // unpacked private (umask 077, no modes or owners from the archive): a secret is never readable before its chmod
        `tar -x -f - -C / --no-same-owner --no-same-permissions --touch || { echo "labgen: tar could not unpack the files (connection cut? disk full?)" >&2; exit 1; }`,
        `sha256sum -c --quiet --strict - <<'LABGEN_SUMS' || ${CUT}`,
        ...files.map((f, i) => `${f.sha256}  ${temps[i]}`),
        'LABGEN_SUMS',
        // chown first: it clears setuid/setgid bits, even for root
        ...grouped('chown', files, temps, (f) => f.owner),
        ...grouped('chmod', files, temps, (f) => octal(f.mode, 4)),
      ]
    : [];
  const lines = [
    'set -eu',
    'umask 077',
    `cleanup() { rm -f -- ${temps.map(q).join(' ')}; }`,
    'placed=0',
    'trap \'[ "$placed" = 1 ] || cleanup\' EXIT', // once placed, no temp is left: no rm to run
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM",
    PLACE,
    ...folders(files),
    ...receive,
    ...(hooks.beforePlace ? [hooks.beforePlace] : []),
    ...files.map((f, i) => `place ${q(temps[i]!)} ${q(f.path)}`),
    'placed=1',
    ...(hooks.owed?.length ? [`[ -d ${q(STAGE)} ] || mkdir -p ${q(STAGE)}`, `printf '%s\\n' ${hooks.owed.map(q).join(' ')} >> ${q(PENDING)}`] : []),
    ...(hooks.afterPlace ? [hooks.afterPlace] : []),
  ];
  return lines.join('\n');
}

/** The temps as one tar stream (names relative to /, unpacked with `-C /`); only their bytes matter. */
export async function payload(files: DesiredFile[], token: string): Promise<Buffer> {
  const tar = pack();
  for (const f of files) tar.entry({ name: remoteTempPath(f.path, token).slice(1), mode: 0o600, mtime: EPOCH, uid: 0, gid: 0 }, f.content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const EPOCH = new Date(0);

/** the cut-over names its temps with one too */
export { newToken };

export async function upload(remote: Runner, files: DesiredFile[], hooks: InstallHooks = {}, step = 'upload'): Promise<void> {
  if (files.length === 0 && !hooks.owed?.length) return;
  const token = newToken();
  const stdin = files.length ? await payload(files, token) : undefined;
  await remote.run(step, `install ${files.length} files (temp + rename)`, installScript(files, token, hooks), { stdin });
}
