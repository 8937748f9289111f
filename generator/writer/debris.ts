import { existsSync, readdirSync } from 'node:fs';
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


function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * The debris in the folders that hold `paths` (relative to the lab folder), as sorted paths
 * relative to it. One readdir per folder: most files share theirs.
 */
export function findDebris(labDir: string, paths: Iterable<string>): string[] {
  const dirs = new Set<string>(['.', LABGEN_DIR, SECRETS_DIR]);
  const interrupted = existsSync(join(labDir, JOURNAL));
  if (interrupted) for (const p of paths) dirs.add(dirname(p));
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
