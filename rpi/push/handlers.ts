import { shellQuote as q } from '../../generator/plan/quote.js';
import { RemoteError, type Remote } from './connection.js';
import { type Handler, handlerId, PENDING, STAGE, STAMP } from './plan.js';

/**
 * The handlers a push runs after its uploads (the network cut-over is cutover.ts), in one remote
 * command: a round trip and a login shell per handler cost a Pi more than most handlers do.
 * Each prints a marker line before it starts, so progress follows them and a failure still names
 * exactly which one failed, with its command, exit code and stderr.
 */

type RunHandler = Exclude<Handler, { kind: 'network' }>;

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
        shown: `bash ${STAGE}/setup.sh`,
        script: `bash ${q(`${STAGE}/setup.sh`)} && printf '%s\\n' ${q(stamp)} > ${q(`${STAMP}.new`)} && mv -f ${q(`${STAMP}.new`)} ${q(STAMP)}`,
      };
  }
}

/** The handlers in order, each announced by its marker; the first failure ends the script with its exit code. */
export function handlersScript(hs: RunHandler[], stamp: string, clearOwed: boolean): string {
  return [
    ...hs.flatMap((h) => [`printf '%s\\n' ${q(MARK + handlerId(h))}`, `{ ${command(h, stamp).script}; } || exit $?`]),
    // nothing is owed any more
    ...(clearOwed ? [`[ ! -e ${q(PENDING)} ] || rm -f ${q(PENDING)}`] : []),
  ].join('\n');
}

export interface HandlerEvents {
  started: (id: string) => void;
  done: (id: string) => void;
}

/** Run the handlers in one command; a failure throws a RemoteError naming the handler that failed. */
export async function runHandlers(remote: Remote, hs: RunHandler[], stamp: string, clearOwed: boolean, on: HandlerEvents): Promise<void> {
  if (!hs.length && !clearOwed) return;
  const byId = new Map(hs.map((h) => [handlerId(h), h]));
  let current: string | undefined;
  const onLine = (line: string) => {
    const id = line.startsWith(MARK) ? line.slice(MARK.length) : undefined;
    if (!id || !byId.has(id)) return;
    if (current) on.done(current);
    on.started((current = id));
  };
  const shown = hs.map((h) => command(h, stamp).shown).join('; ') || `rm -f ${PENDING}`;
  try {
    await remote.run('handlers', shown, handlersScript(hs, stamp, clearOwed), undefined, onLine);
  } catch (e) {
    if (e instanceof RemoteError && current) throw new RemoteError(current, command(byId.get(current)!, stamp).shown, e.code, e.stderrTail);
    throw e;
  }
  if (current) on.done(current);
}
