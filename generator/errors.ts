/**
 * Exit codes are a contract (README.md): 0 ok, 1 failure, 2 bad input or usage, 3 conflict,
 * 130 cancelled at a question (Ctrl+C: 128 + SIGINT, as a process ended by it exits).
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, conflict: 3, cancelled: 130 } as const;
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

/**
 * What the machine refused, in words: a full disk, a read-only folder, a missing permission is
 * not labgen's bug, so it is reported as a LabgenError (exit 1, no stack).
 */
const MACHINE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error (a failing disk or card?)',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
  ENAMETOOLONG: 'the name is too long',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EBUSY: 'the device or file is busy',
};

/** Which operation failed, for the message (Node's fs errors name their syscall). */
const SYSCALL_VERB: Record<string, string> = {
  open: 'write',
  write: 'write',
  mkdir: 'create the folder',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove the folder',
  chmod: 'set the mode of',
  scandir: 'read the folder',
  read: 'read',
  lstat: 'look at',
  stat: 'look at',
};

/** A machine failure (disk full, read-only, no permission) as a LabgenError; anything else: undefined. */
export function machineFailure(e: unknown, hint?: string): LabgenError | undefined {
  const err = e as NodeJS.ErrnoException;
  const cause = typeof err?.code === 'string' ? MACHINE_FAILURES[err.code] : undefined;
  if (!cause) return undefined;
  const verb = (err.syscall && SYSCALL_VERB[err.syscall]) ?? err.syscall ?? 'use';
  const what = err.path ? `cannot ${verb} ${err.path}` : `${err.syscall ?? 'a file operation'} failed`;
  return new LabgenError(EXIT.failure, `${what}: ${cause} (${err.code})`, { hint, cause: e });
}
