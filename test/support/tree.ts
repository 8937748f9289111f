import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/** Temp lab folders and byte-exact pictures of a tree, for tests that must prove "nothing changed". */

export function labDirFrom(example: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'labgen-test-'));
  cpSync(join('labs', example, 'lab.yaml'), join(dir, 'lab.yaml'));
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface Entry {
  mode: number;
  content?: string;
  mtimeMs?: number;
  ino?: number;
}

/** Every file and folder below dir with its mode and content (and mtime/inode when asked). */
export function snapshotTree(dir: string, withTimes = false): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out[`${rel}/`] = { mode: st.mode & 0o7777 };
        walk(p);
      } else {
        out[rel] = {
          mode: st.mode & 0o7777,
          content: readFileSync(p, 'latin1'),
          ...(withTimes ? { mtimeMs: st.mtimeMs, ino: st.ino } : {}),
        };
      }
    }
  };
  walk(dir);
  return out;
}

export function editFile(dir: string, path: string, edit: (s: string) => string): void {
  const p = join(dir, path);
  writeFileSync(p, edit(readFileSync(p, 'utf8')));
}
