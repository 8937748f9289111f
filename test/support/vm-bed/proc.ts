/**
 * Running the programs of the VM test bed: short ones (virsh, ip, iptables) with `must`/`run`,
 * long ones (vagrant, the box build) with `runLogged`, which keeps their output in a log file
 * with a timestamp per line and ends the whole process group when it runs too long.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { run, type ExecResult } from '../test-hosts.js';

export { run, type ExecResult };

/** Like `run`, in a folder. */
export function runIn(
  cwd: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ stdout, stderr: stderr + String(err), code: 127 }));
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 128 }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** `run`, but throws with the program's output on a non-zero exit. */
export async function must(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface LoggedResult {
  code: number;
  /** what the program printed (stdout and stderr, in order), progress bars dropped */
  output: string;
  /** how long it ran, in seconds */
  seconds: number;
}

/** One line per line of output, progress bars (carriage-return redraws) reduced to their last state. */
function cleanLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.split('\r').filter((p) => p.trim() !== '').pop() ?? '')
    .map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
}

/**
 * Runs `cmd` in its own process group with its output appended to `logFile` (each line with
 * the seconds since start). After `timeoutMs` the group gets SIGTERM, then SIGKILL: vagrant
 * leaves ssh and ruby children behind otherwise.
 */
export function runLogged(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string; timeoutMs: number },
): Promise<LoggedResult> {
  const started = Date.now();
  const stamp = () => `[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s]`;
  appendFileSync(opts.logFile, `\n${new Date().toISOString()} $ ${cmd} ${args.join(' ')}${opts.cwd ? ` (in ${opts.cwd})` : ''}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let partial = '';
    const take = (d: Buffer) => {
      const text = partial + d.toString();
      const cut = text.lastIndexOf('\n');
      partial = cut < 0 ? text : text.slice(cut + 1);
      if (cut < 0) return;
      const lines = cleanLines(text.slice(0, cut));
      output += lines.map((l) => `${l}\n`).join('');
      appendFileSync(opts.logFile, lines.map((l) => `${stamp()} ${l}\n`).join(''));
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const group = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        /* already gone */
      }
    };
    const term = setTimeout(() => {
      appendFileSync(opts.logFile, `${stamp()} (timed out after ${opts.timeoutMs / 1000}s: SIGTERM to the process group)\n`);
      group('SIGTERM');
      setTimeout(() => group('SIGKILL'), 15_000).unref();
    }, opts.timeoutMs);
    const done = (code: number) => {
      clearTimeout(term);
      if (partial) take(Buffer.from('\n'));
      const seconds = Math.round((Date.now() - started) / 1000);
      appendFileSync(opts.logFile, `${stamp()} exit ${code}\n`);
      resolve({ code, output, seconds });
    };
    child.on('error', (e) => {
      output += String(e);
      done(127);
    });
    child.on('close', (code, signal) => done(code ?? (signal === 'SIGKILL' ? 137 : 143)));
  });
}

/** The last `n` lines of `text`, to show in an assertion message. */
export function tail(text: string, n = 60): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
