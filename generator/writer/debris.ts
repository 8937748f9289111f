import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TEMP_NAME } from '../common/atomic.js';
import { JOURNAL, LABGEN_DIR, SECRETS_DIR } from '../common/layout.js';

/**
 * Temp files an interrupted labgen left behind (kill -9, power cut): `.<name>.labgen-<tag>-<pid>`
 * beside a file labgen writes (atomic.ts names them). They are told by that name alone, and only
 * in the folders labgen writes into, so nothing of the user's is ever taken for one. A temp file
 * of a labgen that is still running (its pid is alive) is not debris yet.
 *
 * Looking costs a readdir per folder (80,000 in a 10,000-Pi lab), so the whole tree is looked
 * at only when the journal says a transaction did not finish; otherwise only the folders that
 * writeFileAtomic writes into outside one (the lab folder's own, .labgen/, the secrets).
 */

/**
 * Whether a labgen of this pid may still be writing. Not this process: when it looks, it has
 * written nothing yet, so a temp file of its own pid is a dead run's (pid 1 in a container).
 */
export function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Which process a pid is, beyond its number: the boot and the process's start time (Linux's
 * /proc), so a journal left before a reboot, or a pid reused since, is not taken for a live
 * labgen. Empty where there is no /proc (macOS): the pid alone is compared there.
 */
export function processIdentity(pid: number): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]; // field 22, starttime
    return `${boot}:${start}`;
  } catch {
    return '';
  }
}

/** The journal's first line: the pid and the identity of the process that writes the lab folder. */
export const journalHead = () => `${process.pid} ${processIdentity(process.pid)}`.trim();

/** The pid of another labgen writing the lab folder now (its journal, and that very process alive), if any. */
export function journalHolder(journal: string): number | undefined {
  let head: string[];
  try {
    head = (readFileSync(journal, 'utf8').split('\n')[0] ?? '').split(' ');
  } catch {
    return undefined;
  }
  const pid = Number(head[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  const identity = head[1] ?? '';
  return identity && processIdentity(pid) && processIdentity(pid) !== identity ? undefined : pid;
}

/**
 * The files an interrupted run was removing (its journal lists them after its pid): their
 * folders may be left empty, or hold its temp files, though no manifest names them any more.
 */
export function interruptedRemovals(labDir: string): string[] {
  const journal = join(labDir, JOURNAL);
  if (journalHolder(journal) !== undefined) return [];
  try {
    return readFileSync(journal, 'utf8').split('\n').slice(1).filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The debris in the folders that hold `paths` (relative to the lab folder), as sorted paths
 * relative to it; one readdir per folder. `paths`: the planned files and the manifest's (a file
 * a killed run already moved aside is in the manifest only), and labgen's own.
 */
export function findDebris(labDir: string, paths: Iterable<string>): string[] {
  const dirs = new Set<string>(['.', LABGEN_DIR, SECRETS_DIR]);
  const journal = join(labDir, JOURNAL);
  // a journal of a labgen that still runs is its transaction, not debris
  const interrupted = existsSync(journal) && journalHolder(journal) === undefined;
  if (interrupted) for (const p of [...paths, ...interruptedRemovals(labDir)]) dirs.add(dirname(p));
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(join(labDir, dir));
    } catch {
      continue; // a folder not made yet holds no debris
    }
    for (const name of names) {
      const m = TEMP_NAME.exec(name);
      if (m && !alive(Number(m[1]))) found.push(dir === '.' ? name : `${dir}/${name}`);
    }
  }
  if (interrupted) found.push(JOURNAL);
  return found.sort();
}
