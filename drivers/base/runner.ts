import { CommandError, tail } from './failure.js';

/**
 * One way to run commands on a host, whichever way the host is reached: over SSH (ssh.ts, a Pi
 * for push and status) or as a local process (local.ts, for image and up). A driver's steps take
 * a Runner, so one install path runs either way (as k3sup's CommandOperator does).
 */

export interface ExecResult {
  /** null: no exit code came back (the SSH connection was lost) */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** bytes for the command's stdin (none: stdin is empty) */
  stdin?: Buffer;
  /** sees each line of stdout as it arrives */
  onLine?: (line: string) => void;
}

export interface Runner {
  /** the host's name in messages and failures */
  readonly host: string;
  /** Run `script` (sh); resolves whatever the exit code. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Run `script`; resolves with its stdout; a non-zero exit throws a CommandError naming `step` and `command` (as shown). */
  run(step: string, command: string, script: string, opts?: ExecOptions): Promise<string>;
  close(): void;
}

/** `run` for any Runner's `exec`: a rejected exec is a command without an exit code. */
export async function runChecked(r: Pick<Runner, 'host' | 'exec'>, step: string, command: string, script: string, opts?: ExecOptions): Promise<string> {
  let res: ExecResult;
  try {
    res = await r.exec(script, opts);
  } catch (e) {
    throw new CommandError(r.host, step, command, null, (e as Error).message);
  }
  if (res.code !== 0) throw new CommandError(r.host, step, command, res.code, tail(res.stderr || res.stdout));
  return res.stdout;
}

/** Feeds `onLine` whole lines from chunks of stdout; `flush` hands over a last line without a newline. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; flush(): void } {
  let partial = '';
  return {
    push(chunk) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      lines.forEach(onLine);
    },
    flush() {
      if (partial) onLine(partial);
      partial = '';
    },
  };
}
