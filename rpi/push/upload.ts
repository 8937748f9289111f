import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shellQuote as q } from '../../generator/plan/quote.js';
import type { Remote } from './connection.js';
import { type DesiredFile, PENDING, STAGE } from './plan.js';

/**
 * Uploads in one command per batch: the files' bytes arrive on stdin, one after another; each
 * goes to a temp file beside its target, is checked against its sha256 and given its mode and
 * owner. Only when every file of the batch arrived whole are they renamed into place, each
 * keeping the version it replaces as `<file>.labgen-prev`. A connection cut at any point leaves
 * every target as it was or as it should be, never half-written; the temps are removed.
 */

/** `/etc/.hosts.labgen-new-<token>`: beside the target (same filesystem: rename is atomic), unique per push. */
export function tempPath(target: string, token: string): string {
  return posix.join(posix.dirname(target), `.${posix.basename(target)}.labgen-new-${token}`);
}

export interface InstallHooks {
  /** runs after every file arrived and before the first rename (the cut-over starts its guard here) */
  beforePlace?: string;
  /** runs after the renames */
  afterPlace?: string;
  /** handler ids to record as owed, with the renames */
  owed?: string[];
}

/** Folders to create: secrets/ is root's alone, everything else is readable (umask 022). */
function folders(files: DesiredFile[]): string[] {
  const dirs = [...new Set(files.map((f) => posix.dirname(f.path)))].sort();
  const secretDir = `${STAGE}/secrets`;
  return [
    ...(dirs.some((d) => d !== secretDir) ? [`(umask 022; mkdir -p -- ${dirs.filter((d) => d !== secretDir).map(q).join(' ')})`] : []),
    ...(dirs.includes(secretDir) ? [`mkdir -p -m 0700 -- ${q(secretDir)}`] : []),
  ];
}

const RECEIVE = `# receive TMP SIZE SHA256: exactly SIZE bytes of stdin (dd's fullblock never reads past them), then check them
receive() {
  if [ "$2" -gt 0 ]; then dd of="$1" bs="$2" count=1 iflag=fullblock status=none; else : > "$1"; fi
  [ "$(sha256sum < "$1")" = "$3  -" ] || { echo "labgen: $1: content did not arrive whole (connection cut?)" >&2; exit 1; }
}
# place TMP TARGET: atomic rename; the replaced version stays as TARGET.labgen-prev (a hard link, no copy)
place() {
  if [ -e "$2" ]; then ln -f -- "$2" "$2.labgen-prev"; else rm -f -- "$2.labgen-prev"; fi
  mv -fT -- "$1" "$2"
}`;

/** The batch's script; its stdin must be `payload(files)`. */
export function installScript(files: DesiredFile[], token: string, hooks: InstallHooks = {}): string {
  const temps = files.map((f) => tempPath(f.path, token));
  const lines = [
    'set -eu',
    'umask 077', // temps start private: a secret is never readable before its chmod
    `cleanup() { rm -f -- ${temps.map(q).join(' ')}; }`,
    'trap cleanup EXIT',
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM",
    RECEIVE,
    ...folders(files),
    ...files.flatMap((f, i) => [
      `[ ! -d ${q(f.path)} ] || { echo "labgen: "${q(f.path)}" is a folder" >&2; exit 1; }`,
      `receive ${q(temps[i])} ${f.content.length} ${f.sha256}`,
      `chmod ${(f.mode & 0o7777).toString(8).padStart(4, '0')} ${q(temps[i])}`,
      `chown ${q(f.owner)} ${q(temps[i])}`,
    ]),
    ...(hooks.beforePlace ? [hooks.beforePlace] : []),
    ...files.map((f, i) => `place ${q(temps[i])} ${q(f.path)}`),
    ...(hooks.owed?.length ? [`mkdir -p ${q(STAGE)}`, `printf '%s\\n' ${hooks.owed.map(q).join(' ')} >> ${q(PENDING)}`] : []),
    ...(hooks.afterPlace ? [hooks.afterPlace] : []),
  ];
  return lines.join('\n');
}

export const payload = (files: DesiredFile[]) => Buffer.concat(files.map((f) => f.content));

export const newToken = () => randomBytes(6).toString('hex');

export async function upload(remote: Remote, files: DesiredFile[], hooks: InstallHooks = {}, step = 'upload'): Promise<void> {
  if (files.length === 0 && !hooks.owed?.length) return;
  const script = installScript(files, newToken(), hooks);
  await remote.run(step, `install ${files.length} files (temp + rename)`, script, payload(files));
}
