/**
 * The one shape a driver's failure takes, whatever failed (push, image or up; over SSH or in a
 * local process): the host, the step, and when a command failed, the command as shown to the
 * user, its exit code and the tail of its stderr. Drivers report it with `failureLines`.
 */

export interface Failure {
  /** the host the step ran for (a Pi's node name, `localhost` for a local process) */
  host: string;
  /** what the driver was doing: `connect`, `upload`, `setup.sh`, … */
  step: string;
  message: string;
  /** the command as shown to the user (not the script that ran) */
  command?: string;
  /** its exit code; null: it never ended with one (the SSH connection was lost) */
  code?: number | null;
  /** the last lines of its stderr (of stdout when stderr was empty) */
  stderrTail?: string;
}

/** The last lines of a command's output, enough to see why it failed. */
export function tail(text: string, lines = 8, chars = 1500): string {
  const t = text.trim().split('\n').slice(-lines).join('\n');
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}

/** "`cmd` exited 2", "`cmd` lost its connection" */
export function commandOutcome(command: string, code: number | null | undefined): string {
  return `\`${command}\` ${code === null || code === undefined ? 'lost its connection' : `exited ${code}`}`;
}

/** A command that failed (a Runner's `run` throws it): a Failure as an Error. */
export class CommandError extends Error {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly command: string,
    readonly code: number | null,
    readonly stderrTail: string,
  ) {
    super(`${step}: ${commandOutcome(command, code)}${stderrTail ? `: ${stderrTail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** An error that knows the step it belongs to (a refused host key, a failed connect). */
export interface StepError extends Error {
  readonly step: string;
}

const isStepError = (e: unknown): e is StepError => e instanceof Error && typeof (e as Partial<StepError>).step === 'string';

/** Any error as a Failure of `host`; `step` is what the driver was doing, unless the error says better. */
export function failureOf(e: unknown, host: string, step: string): Failure {
  if (e instanceof CommandError) return { host, step: e.step, message: e.message, command: e.command, code: e.code, stderrTail: e.stderrTail };
  if (isStepError(e)) return { host, step: e.step, message: e.message };
  return { host, step, message: (e as Error)?.message ?? String(e) };
}

/**
 * A failure for the user: `<where>: failed at <step>: <command> exited <code>` (or the message
 * when no command failed), then the tail of stderr, indented. `where` defaults to the host.
 */
export function failureLines(f: Failure, where: string = f.host): string[] {
  return [
    `${where}: failed at ${f.step}: ${f.command ? commandOutcome(f.command, f.code) : f.message}`,
    ...(f.stderrTail ? f.stderrTail.split('\n').map((l) => `    ${l}`) : []),
  ];
}
