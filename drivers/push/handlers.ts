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

/**
 * Marker lines: `start <id>` before a handler, `done <id>` after it succeeded, `skip <id>` when
 * it found nothing to do (before its `done`); each on a line of its own.
 */
const MARK = 'labgen-handler ';

/** A leading newline: a handler's output that does not end in one must not swallow the marker. */
const mark = (what: string, id: string) => `printf '\\n%s\\n' ${q(`${MARK}${what} ${id}`)}`;

/**
 * systemd gives every start of a unit a new InvocationID (systemd 232 on; an older systemd or
 * none prints nothing, and then every restart runs).
 */
const invocation = (service: string) => `"$(systemctl show -p InvocationID --value -- ${q(service)} 2>/dev/null || :)"`;

function command(h: RunHandler, stamp: string, seen?: string): { shown: string; script: string } {
  switch (h.kind) {
    case 'daemon-reload':
      return { shown: 'systemctl daemon-reload', script: 'systemctl daemon-reload' };
    case 'restart': {
      const restart = `systemctl restart ${q(h.service)}`;
      // started (by setup.sh, by its package's install, …) since the files were placed: it runs
      // with them already, and a restart a moment after that start is one start too many
      const script = seen ? `if [ ${invocation(h.service)} != "$${seen}" ]; then ${mark('skip', handlerId(h))}; else ${restart}; fi` : restart;
      return { shown: `systemctl restart ${h.service}`, script };
    }
    case 'setup':
      // the stamp is written only when setup.sh ran to the end: a failed run is retried next push
      return {
        shown: `bash ${SETUP}`,
        script: `bash ${q(SETUP)} && printf '%s\\n' ${q(stamp)} > ${q(`${STAMP}.new`)} && mv -f ${q(`${STAMP}.new`)} ${q(STAMP)}`,
      };
  }
}

/**
 * The handlers in order between their markers; the first failure ends the script with its exit
 * code. When setup.sh runs, each service to restart is looked at first (the files are placed by
 * then): one that setup.sh started or restarted is not restarted again.
 */
export function handlersScript(hs: RunHandler[], stamp: string): string {
  const seen = new Map<RunHandler, string>(); // a restart handler → the variable holding its service's InvocationID
  const snapshot: string[] = [];
  if (hs.some((h) => h.kind === 'setup'))
    hs.forEach((h, i) => {
      if (h.kind !== 'restart') return;
      seen.set(h, `labgen_invocation_${i}`);
      snapshot.push(`labgen_invocation_${i}=${invocation(h.service)}`);
    });
  return [
    ...snapshot,
    ...hs.flatMap((h) => [mark('start', handlerId(h)), `{ ${command(h, stamp, seen.get(h)).script}; } || exit $?`, mark('done', handlerId(h))]),
    // nothing is owed any more (an owed handler is always among these: plan.ts handlers())
    ...(owed(hs).length ? [`[ ! -e ${q(PENDING)} ] || rm -f ${q(PENDING)}`] : []),
  ].join('\n');
}

/** setup.sh's closing line (`report` in templates/_partials/place.sh.ejs). */
const SETUP_REPORT = /^setup \(.+?\): (?:changed: (.*)|nothing to change)$/;

/**
 * setup.sh's closing line in short (templates/_partials/place.sh.ejs `report`): `setup (NODE):
 * nothing to change`, or `setup (NODE): changed: ITEM…`, the items separated by spaces: each
 * path it placed, `packages: P…` it installed, `enabled UNIT`, `started UNIT`.
 */
export function setupSummary(line: string): string {
  const m = SETUP_REPORT.exec(line);
  if (!m) return `setup.sh: ${line}`;
  if (m[1] === undefined) return 'setup.sh: nothing to change';
  const files: string[] = [];
  const packages: string[] = [];
  const units: Record<'enabled' | 'started', string[]> = { enabled: [], started: [] };
  const other: string[] = [];
  const words = m[1].split(' ').filter(Boolean);
  let inPackages = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const unit = words[i + 1];
    if (w === 'packages:') inPackages = true;
    else if ((w === 'enabled' || w === 'started') && unit) {
      units[w].push(unit);
      i++;
      inPackages = false;
    } else if (w.startsWith('/')) {
      files.push(w);
      inPackages = false;
    } else (inPackages ? packages : other).push(w);
  }
  const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? `, … (${files.length - 3} more)` : '');
  const parts = [
    packages.length ? `installed ${packages.join(' ')}` : '',
    files.length ? `placed ${shown}` : '',
    units.enabled.length ? `enabled ${units.enabled.join(', ')}` : '',
    units.started.length ? `started ${units.started.join(', ')}` : '',
    other.join(' '),
  ].filter(Boolean);
  return `setup.sh: ${parts.join('; ')}`;
}

export interface HandlerEvents {
  started: (id: string) => void;
  done: (id: string) => void;
  /** a restart that was not needed: the service started after the files were placed */
  skipped?: (id: string) => void;
  /** setup.sh's closing line: what it changed, or that nothing */
  setupReport?: (line: string) => void;
}

/** Run the handlers in one command; a failure throws a CommandError naming the handler that failed. */
export async function runHandlers(remote: Runner, hs: RunHandler[], stamp: string, on: HandlerEvents): Promise<void> {
  if (!hs.length) return;
  const byId = new Map(hs.map((h) => [handlerId(h), h]));
  let running: string | undefined; // started, not done yet
  let skipped = false;
  const onLine = (line: string) => {
    if (running === 'setup.sh' && SETUP_REPORT.test(line)) on.setupReport?.(line);
    const [, what, id] = (line.startsWith(MARK) && /^(start|skip|done) (.+)$/.exec(line.slice(MARK.length))) || [];
    if (!id || !byId.has(id)) return;
    if (what === 'start') {
      skipped = false;
      on.started((running = id));
    } else if (running === id && what === 'skip') skipped = true;
    else if (running === id) {
      if (skipped) on.skipped?.(id);
      else on.done(id);
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
