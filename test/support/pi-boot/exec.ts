/**
 * Small process helpers for the Pi boot harness: run programs without a shell, own temp dirs
 * that are removed when this process exits, notice what dead test processes left behind.
 */
import { rmSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessEnd } from '../process-end.js';
import { run, type ExecResult } from '../test-hosts.js';

export { run, type ExecResult };

/** Like run, but throws naming the command and its stderr when it fails. */
export async function must(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r.stdout;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A zombie counts as dead: its owner is gone even if nobody reaped it yet. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function killQuietly(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Temp dirs are named labgen-pi-<pid>-XXXXXX: a later run can tell a dead owner's leftovers. */
const TEMP_PREFIX = 'labgen-pi';
const ownDirs = new Set<string>();
let dirsHooked = false;

function hookDirs(): void {
  if (dirsHooked) return;
  dirsHooked = true;
  // registered before any guest's (a guest's image is in one): so the dirs go after the guests
  onProcessEnd(() => {
    for (const dir of ownDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** A temp dir this process owns: removed by `removeTempDir`, or at exit at the latest. */
export async function makeTempDir(what: string): Promise<string> {
  hookDirs();
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}-${process.pid}-${what}-`));
  ownDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  ownDirs.delete(dir);
}

/** Remove temp dirs of test processes that died before their teardown (SIGKILL, OOM). */
export function sweepStaleTempDirs(): void {
  const re = new RegExp(`^${TEMP_PREFIX}-(\\d+)-`);
  for (const entry of readdirSync(tmpdir())) {
    const m = re.exec(entry);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}
