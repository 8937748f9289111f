import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { shellQuote as q } from '../../generator/common/quote.js';
import { CommandError } from '../base/failure.js';
import type { Runner } from '../base/runner.js';
import { type Handler, handlerId, owed } from './plan.js';

const { setup: SETUP, stamp: STAMP, pending: PENDING } = PI_STAGE;

/**
 * The handlers a push runs after its uploads (the network cut-over is cutover.ts), in one remote
 * command: a round trip and a login shell per handler cost a Pi more than most handlers do.
 * Marker lines around each let progress follow them, and a failure still names exactly which
 * one failed, with its command, exit code and stderr.
 */

export type RunHandler = Exclude<Handler, { kind: 'network' }>;

/** Marker lines: `start <id>` before a handler, `done <id>` after it succeeded; each on a line of its own. */
const MARK = 'labgen-handler ';

function command(h: RunHandler, stamp: string): { shown: string; script: string } {
  switch (h.kind) {
    case 'daemon-reload':
      return { shown: 'systemctl daemon-reload', script: 'systemctl daemon-reload' };
    case 'restart':
      return { shown: `systemctl restart ${h.service}`, script: `systemctl restart ${q(h.service)}` };
    case 'setup':
      // the stamp is written only when setup.sh ran to the end: a failed run is retried next push
      return {
        shown: `bash ${SETUP}`,
        script: `bash ${q(SETUP)} && printf '%s\\n' ${q(stamp)} > ${q(`${STAMP}.new`)} && mv -f ${q(`${STAMP}.new`)} ${q(STAMP)}`,
      };
  }
}

/** The handlers in order between their markers; the first failure ends the script with its exit code. */
export function handlersScript(hs: RunHandler[], stamp: string): string {
  // a leading newline: a handler's output that does not end in one must not swallow the marker
  const mark = (what: string, h: RunHandler) => `printf '\\n%s\\n' ${q(`${MARK}${what} ${handlerId(h)}`)}`;
  return [
    ...hs.flatMap((h) => [mark('start', h), `{ ${command(h, stamp).script}; } || exit $?`, mark('done', h)]),
    // nothing is owed any more (an owed handler is always among these: plan.ts handlers())
    ...(owed(hs).length ? [`[ ! -e ${q(PENDING)} ] || rm -f ${q(PENDING)}`] : []),
  ].join('\n');
}

export interface HandlerEvents {
  started: (id: string) => void;
  done: (id: string) => void;
}

/** Run the handlers in one command; a failure throws a CommandError naming the handler that failed. */
export async function runHandlers(remote: Runner, hs: RunHandler[], stamp: string, on: HandlerEvents): Promise<void> {
  if (!hs.length) return;
  const byId = new Map(hs.map((h) => [handlerId(h), h]));
  let running: string | undefined; // started, not done yet
  const onLine = (line: string) => {
    const [, what, id] = (line.startsWith(MARK) && /^(start|done) (.+)$/.exec(line.slice(MARK.length))) || [];
    if (!id || !byId.has(id)) return;
    if (what === 'start') on.started((running = id));
    else if (running === id) {
      on.done(id);
      running = undefined;
    }
  };
  const shown = hs.map((h) => command(h, stamp).shown).join('; ');
  try {
    // a failure outside every handler (the connection, clearing what is owed) is the step's own
    await remote.run('handlers', shown, handlersScript(hs, stamp), { onLine });
  } catch (e) {
    if (e instanceof CommandError && running) throw new CommandError(e.host, running, command(byId.get(running)!, stamp).shown, e.code, e.stderrTail);
    throw e;
  }
}
