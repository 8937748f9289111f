/**
 * How a command talks to the user: every line it prints goes through one of these (yeoman's
 * conflicter does the same), so tests and tools pass their own and nothing writes to the
 * process's streams behind their back.
 */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** a terminal: colours, live progress, questions (default: stdout is a terminal) */
  tty: boolean;
}

/** The given parts, the process's own streams for the rest. */
export function ioOf(io: Partial<Io> = {}): Io {
  return {
    out: io.out ?? ((l) => process.stdout.write(`${l}\n`)),
    err: io.err ?? ((l) => process.stderr.write(`${l}\n`)),
    tty: io.tty ?? process.stdout.isTTY ?? false,
  };
}
