import { shellQuote as q } from '../../generator/plan/quote.js';
import type { Remote } from './connection.js';
import { type Handler, handlerId, PENDING, STAGE, STAMP } from './plan.js';

/**
 * The handlers a push runs after its uploads (the network cut-over is cutover.ts). Each is one
 * remote command, so a failure names exactly which one.
 */

function command(h: Exclude<Handler, { kind: 'network' }>, stamp: string): { shown: string; script: string } {
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

export async function runHandler(remote: Remote, h: Exclude<Handler, { kind: 'network' }>, stamp: string): Promise<string> {
  const { shown, script } = command(h, stamp);
  return remote.run(handlerId(h), shown, script);
}

/** Nothing is owed any more. */
export async function clearPending(remote: Remote): Promise<void> {
  await remote.run('clear pending', `rm -f ${PENDING}`, `rm -f ${q(PENDING)}`);
}
