import { CHECK_KEY } from './install.js';

/**
 * The questions adopt asks on a terminal: whether the key a Pi presents is its own (before
 * anything is sent to it), and passwords, typed without echo. @inquirer/prompts is loaded only
 * when there is a terminal to ask on.
 */

/** The user pressed Ctrl+C at a question: the Pi asking and the ones after it are left as they are. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled at a question (Ctrl+C): nothing was changed on it');
    this.name = 'Cancelled';
  }
}

/** Questions on a terminal; adopt then takes the Pis one after another. They throw Cancelled on Ctrl+C. */
export interface Asker {
  /** whether `fingerprint`, which `node` presents at `address`, is the Pi's own key */
  confirmKey(node: string, address: string, fingerprint: string): Promise<boolean>;
  /** a password, typed without echo */
  password(message: string): Promise<string>;
}

/** inquirer's Ctrl+C (ExitPromptError) and an aborted prompt as Cancelled; anything else as it is. */
async function cancellable<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if ((e as Error)?.name === 'ExitPromptError' || (e as Error)?.name === 'AbortPromptError') throw new Cancelled();
    throw e;
  }
}

/** Why a key is asked about and where to check it, by default a stock Pi's. */
const PI_KEY = 'the lab did not make it (a stock OS makes its own on first boot). On the Pi, on its screen or a login you trust, run:';

/** The questions on the terminal; `out` prints a line above them; `why` says why a key is asked about (labgen up: a host of your own). */
export async function terminalAsker(out: (line: string) => void, why = PI_KEY): Promise<Asker> {
  const { confirm, password } = await import('@inquirer/prompts');
  return {
    confirmKey: (node, address, fp) => {
      out(`${node} (${address}) presents the host key ssh-ed25519 ${fp}`);
      out(`  ${why}`);
      out(`    ${CHECK_KEY}`);
      return cancellable(confirm({ message: `Does it print ${fp}?`, default: false }));
    },
    password: (message) => cancellable(password({ message })),
  };
}
