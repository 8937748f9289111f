import { EXIT, LabgenError } from '../errors.js';
import type { Io } from '../common/io.js';

/** A yes/no question on the terminal (an @inquirer/prompts confirm, loaded when asked); Ctrl+C is a no. */
export async function promptConfirm(message: string): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  try {
    return await confirm({ message, default: false });
  } catch (e) {
    if ((e as Error)?.name === 'ExitPromptError') return false;
    throw e;
  }
}

/**
 * Before a command that cannot be undone: `--yes` said so, or the user says yes on a terminal.
 * Without a terminal and without --yes it is refused (bad input, nothing done): a script must say
 * it means it. False: the user said no.
 */
export interface Question {
  /** asked on a terminal */
  ask: string;
  /** what the command does, for the refusal without one */
  does: string;
  /** the command with --yes */
  withYes: string;
}

export async function askFirst(io: Io, o: { yes?: boolean; confirm?: (message: string) => Promise<boolean> }, q: Question): Promise<boolean> {
  if (o.yes) return true;
  // a question needs a terminal to be typed on too, not only one to be read on
  if (!io.tty || (!o.confirm && !process.stdin.isTTY)) throw new LabgenError(EXIT.badInput, `${q.does}; without a terminal to ask on, --yes says so`, { hint: q.withYes });
  return (o.confirm ?? promptConfirm)(q.ask);
}
