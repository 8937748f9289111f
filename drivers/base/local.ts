import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { type ExecOptions, type ExecResult, lineSplitter, type Runner, runChecked } from './runner.js';

/**
 * The local Runner: each command a child process of labgen (`sh -c SCRIPT`), for the drivers
 * that work on this machine (image: building a Pi's image; up: vagrant, kubectl). Same contract
 * as the SSH Runner, so a step written against Runner runs either way. The process gets labgen's
 * environment (plus `env`) and runs as labgen's user: nothing is raised to root here.
 */

export interface LocalOptions {
  /** the name in messages and failures (default `localhost`) */
  host?: string;
  /** working directory (default labgen's) */
  cwd?: string;
  /** added to labgen's environment */
  env?: Record<string, string>;
}

/** A process ended by a signal reports 128 + its number, as a shell does (130 for SIGINT). */
function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

export class LocalRunner implements Runner {
  readonly host: string;
  private readonly children = new Set<ReturnType<typeof spawn>>();

  constructor(private readonly o: LocalOptions = {}) {
    this.host = o.host ?? 'localhost';
  }

  /**
   * Run `script` with sh; resolves whatever the exit code. A process that cannot be started
   * (no sh, a missing cwd) resolves with 127 and the reason as stderr, as a shell reports a
   * command it cannot run; `code` is never null here.
   */
  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = spawn('sh', ['-c', script], {
        cwd: this.o.cwd,
        env: this.o.env ? { ...process.env, ...this.o.env } : process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.children.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const lines = opts.onLine ? lineSplitter(opts.onLine) : undefined;
      child.stdout.on('data', (d: Buffer) => {
        out.push(d);
        lines?.push(d);
      });
      child.stderr.on('data', (d: Buffer) => err.push(d));
      let settled = false;
      const settle = (r: ExecResult) => {
        if (settled) return;
        settled = true;
        this.children.delete(child);
        resolve(r);
      };
      // not started (no sh, a missing cwd): 'close' may never follow
      child.on('error', (e) => settle({ code: 127, stdout: '', stderr: e.message }));
      // a command that does not read its stdin closes it early: not an error of the command
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin ?? undefined);
      child.on('close', (code, signal) => {
        lines?.flush();
        settle({ code: exitCode(code, signal), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
    });
  }

  run(step: string, command: string, script: string, opts?: ExecOptions): Promise<string> {
    return runChecked(this, step, command, script, opts);
  }

  /**
   * Ends the commands still running: SIGTERM to each one's sh (its exec resolves with 143 once
   * the output is closed; a command the script started in the background holds it until it ends).
   */
  close(): void {
    for (const c of this.children) c.kill('SIGTERM');
  }
}
