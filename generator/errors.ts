/** Exit codes are a contract (DESIGN.md): 0 ok, 1 failure, 2 bad input or usage, 3 conflict. */
export const EXIT = { ok: 0, failure: 1, badInput: 2, conflict: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A known error: the CLI prints its message and hint, never a stack. */
export class LabgenError extends Error {
  readonly hint?: string;
  constructor(
    readonly code: ExitCode,
    message: string,
    opts: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'LabgenError';
    this.hint = opts.hint;
  }
}

/** lab.yaml broke one or more rules; every problem is listed, each with its path. */
export class LabValidationError extends LabgenError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(EXIT.badInput, `${file} is not a valid lab:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the fields named above and run the command again',
    });
  }
}
