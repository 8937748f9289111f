import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './generated.js';
import { alive } from './pi-boot/exec.js';

/**
 * The teardown net the harnesses hang QEMU, namespaces and sshd on (process-end.ts), in real
 * child processes: a signal, a runner that died under its worker, an orderly disconnect.
 */

const work = mkdtempSync(join(tmpdir(), 'labgen-process-end-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// the module as the children load it: plain JavaScript (esbuild only strips the types)
const MODULE = join(work, 'process-end.mjs');
writeFileSync(MODULE, transformSync(readFileSync(join(REPO_ROOT, 'test/support/process-end.ts'), 'utf8'), { loader: 'ts', format: 'esm' }).code);

/** `text` as a module file to run (not `node -e`: a fork would inherit --input-type and fail) */
function script(text: string): string {
  const file = join(work, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, text);
  return file;
}

/** a child script: registers hooks that append their name to `log`, says READY on stdout (or IPC), then waits */
function child(log: string, extra = ''): string {
  return script(
    `import { appendFileSync } from 'node:fs';
import { onProcessEnd } from ${JSON.stringify(MODULE)};
onProcessEnd(() => appendFileSync(${JSON.stringify(log)}, 'first\\n'));
onProcessEnd(() => appendFileSync(${JSON.stringify(log)}, 'second\\n'));
const gone = onProcessEnd(() => appendFileSync(${JSON.stringify(log)}, 'unregistered\\n'));
gone();
${extra}
setInterval(() => undefined, 1000);
if (process.send) process.send('READY'); else console.log('READY');
`,
  );
}

/** Waits (generously: the machine may be loaded) until `ok()`, or fails naming `what`. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const lines = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

describe('onProcessEnd: teardown however a test process ends', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    it(`${signal}: the hooks run once, the last registered first, then the process dies of the signal`, async () => {
      const log = join(work, `${signal}.log`);
      const p = spawn(process.execPath, [child(log)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
      const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => p.once('exit', (code, sig) => resolve([code, sig])));
      p.kill(signal);
      expect(await ended).toEqual([null, signal]);
      expect(lines(log)).toEqual(['second', 'first']);
    });

  it('a normal exit: the hooks run once', async () => {
    const log = join(work, 'exit.log');
    const p = spawn(process.execPath, [child(log, 'setTimeout(() => process.exit(0), 0);')], { stdio: 'ignore' });
    expect(await new Promise((resolve) => p.once('exit', resolve))).toBe(0);
    expect(lines(log)).toEqual(['second', 'first']);
  });

  it('a worker whose runner died (its IPC channel closed, init its parent now): the hooks run and it ends', async () => {
    const log = join(work, 'orphan.log');
    const pidFile = join(work, 'orphan.pid');
    // the runner: forks the worker, writes its pid once it is ready, then dies outright
    const runner = `import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const w = fork(${JSON.stringify(child(log))}, { stdio: 'ignore' });
w.once('message', () => { writeFileSync(${JSON.stringify(pidFile)}, String(w.pid)); process.kill(process.pid, 'SIGKILL'); });
`;
    const r = spawn(process.execPath, [script(runner)], { stdio: 'ignore' });
    await new Promise((resolve) => r.once('exit', resolve));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      await until(() => !alive(pid), `the orphaned worker (pid ${pid}) to end`);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    expect(lines(log)).toEqual(['second', 'first']);
  });

  it('an orderly disconnect while the runner lives (a pool ending): the worker goes on, no hook runs', async () => {
    const log = join(work, 'disconnect.log');
    const still = join(work, 'still-running');
    // the worker's own listener comes after the net's: it runs only if the net did not end the process
    const worker = child(log, `process.once('disconnect', () => setImmediate(() => appendFileSync(${JSON.stringify(still)}, 'yes')));`);
    const p = spawn(process.execPath, [script(`import { fork } from 'node:child_process';
const w = fork(${JSON.stringify(worker)}, { stdio: 'ignore' });
w.once('message', () => { console.log(w.pid); w.disconnect(); });
setInterval(() => undefined, 1000);
`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = Number(await new Promise<string>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
    try {
      await until(() => existsSync(still) || !alive(pid), 'the worker to note the disconnect, or to end');
      // the net looks at its parent every 100 ms: ten of those times, for a check that would end it wrongly
      await new Promise((r) => setTimeout(r, 1000));
      expect(alive(pid), 'the worker ended on an orderly disconnect').toBe(true);
      expect(existsSync(still)).toBe(true);
      expect(lines(log)).toEqual([]);
    } finally {
      p.kill('SIGKILL');
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
