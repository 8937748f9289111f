import { setTimeout as sleep } from 'node:timers/promises';
import { shellQuote as q } from '../../generator/common/quote.js';
import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { ConnectError, HostKeyError, type SshRunner as Remote } from '../base/ssh.js';
import type { Change } from './plan.js';
import { newToken, upload } from './upload.js';

/**
 * A network config change, made safe: the Pi may come back at another address, or not at all.
 *
 * 1. In the same command that uploads the new config, before anything is renamed, a guard is
 *    started on the Pi, detached from the SSH session (`systemd-run --on-active` where systemd
 *    runs, with a small AccuracySec, else `setsid sh -c 'sleep N; …'`). When it fires it undoes
 *    the cut-over unless labgen confirmed first: every file of the batch that holds the new
 *    content is put back from its `.labgen-prev`, and the old config is applied again. An older
 *    push's guard still waiting is retired first (retireScript): one guard per Pi at a time.
 * 2. The config is renamed into place and applied, also detached and a moment later, so the
 *    command returns before the address moves under it.
 * 3. labgen reconnects at the new address (host key checked as always) and confirms once the
 *    Pi applied the config. When the address does not change (a first push to a Pi already at
 *    its lab address, a new gateway or DNS server), the session that uploaded the config
 *    confirms instead, if it still works once the apply returned: the laptop is on the Pi's
 *    LAN, so the Pi staying reachable at that address is what a new session would prove, for a
 *    round trip instead of a handshake. If it dropped or stalls, labgen reconnects as above.
 *    Confirming and the guard's firing both `mkdir <dir>/decided`: whichever gets there first
 *    decides, so a late confirm can never race a rollback.
 * 4. No confirm in time: labgen waits for the guard and checks the Pi is back at the old address.
 *    An apply that failed is never confirmed: labgen runs the guard at once.
 */

export interface CutoverOptions {
  from: string;
  to: string;
  /** shell command applying the network config (setup.sh's, per OS) */
  applyNetwork: string;
  /** how long labgen tries to reach and confirm the new address */
  confirmTimeoutMs: number;
  /** how much longer the guard waits before it rolls back */
  guardMarginMs: number;
  /** how long to keep trying the old address after a rollback */
  rollbackWaitMs: number;
  connect: (address: string, timeoutMs: number) => Promise<Remote>;
  step: (text: string) => void;
}

export type CutoverResult =
  | { outcome: 'confirmed'; remote: Remote }
  | { outcome: 'rolled-back'; reason: string }
  | { outcome: 'lost'; reason: string };

/** Where the cut-overs keep their folders on the Pi: one per push that changed the network. */
const CUTOVERS = `${PI_STAGE.dir}/cutover`;

/**
 * Transient units of a cut-over are `labgen-guard-<token>` and `labgen-apply-<token>`: the next
 * push finds them by these names to stop them (retireScript).
 */
const UNIT = { guard: 'labgen-guard', apply: 'labgen-apply' } as const;

/**
 * How late systemd may fire a timer. Its default AccuracySec is 1min, so a 0.3 s apply could run
 * a minute late (and miss the confirm window), and a guard fire well after labgen's wait for it.
 */
export const TIMER_ACCURACY = '10ms';

const onSystemd = '[ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1';

/** What `systemctl list-timers` and `status` say of a cut-over's unit (systemd-run's default, the command line, is the whole multi-line script). */
export const unitDescription = (name: string) => `labgen network cut-over (${name})`;

/**
 * Run SCRIPT after DELAY milliseconds, outliving the SSH session that started it: a transient
 * systemd timer where systemd runs, else a detached `sleep` whose PID goes to DIR/pids. Either
 * way SCRIPT runs only while DIR is there: a later push that removed DIR superseded it.
 */
export function detached(name: string, delayMs: number, script: string, dir: string, log: string): string {
  const body = `[ -d ${q(dir)} ] || exit 0 # superseded by a later push\n${script}`;
  return [
    `if ${onSystemd}; then`,
    `  systemd-run --quiet --collect --unit=${q(name)} --description=${q(unitDescription(name))} --on-active=${delayMs}ms --timer-property=AccuracySec=${TIMER_ACCURACY} /bin/sh -c ${q(body)}`,
    'else',
    `  setsid sh -c ${q(`sleep ${delayMs / 1000}; ${body}`)} > ${q(log)} 2>&1 < /dev/null &`,
    `  echo "$!" >> ${q(`${dir}/pids`)}`,
    'fi',
  ].join('\n');
}

/**
 * How long a new cut-over waits for an older one's guard that is rolling back (its apply
 * command brings the old network back, which may take a while) before it refuses the push.
 */
export const ROLLBACK_WAIT_SEC = 60;

/** Said when an older guard is still rolling back after ROLLBACK_WAIT_SEC: the push of this Pi stops there, nothing placed. */
export const ROLLBACK_IN_PROGRESS = 'labgen: a rollback is in progress on this Pi';

/**
 * Before a new cut-over: every older one is decided (`superseded`, unless it was decided already)
 * so it can never roll back what this push now guards (this push reached the Pi, so the config
 * it runs works), its timers are stopped and its sleeping guard killed, then its folder goes.
 * A guard that had decided first is rolling back, or done: its folder goes only once it is done
 * (waited for, `waitSec` at most; still running then, the push of this Pi stops with
 * ROLLBACK_IN_PROGRESS before any file is placed), or its rollback and this push's apply would
 * run at once. A guard runs while the PID it wrote (guard.pid, before it took `decided`) runs its
 * guard.sh; a PID is killed (with its process group: the guard's sleep) only while it still runs
 * that guard: a PID the kernel gave to another process since is left alone.
 */
export function retireScript(waitSec = ROLLBACK_WAIT_SEC): string {
  return [
    'rolling_back() { p=$(cat "$1/guard.pid" 2>/dev/null) && [ -n "$p" ] && grep -qaF -- "$1/guard.sh" "/proc/$p/cmdline" 2>/dev/null; }',
    `for d in ${q(CUTOVERS)}/*; do`,
    '  [ -d "$d" ] || continue',
    '  if mkdir "$d/decided" 2>/dev/null; then echo superseded > "$d/outcome"',
    // decided before: confirmed, or by its guard, which may be rolling back right now
    `  else i=0; while rolling_back "$d" && [ "$i" -lt ${Math.ceil(waitSec * 5)} ]; do sleep 0.2; i=$((i + 1)); done; fi`,
    '  if rolling_back "$d"; then',
    `    echo ${q(`${ROLLBACK_IN_PROGRESS}: the guard of an earlier push is putting its network config back (`)}"$d"${q(`, still after ${waitSec}s); nothing of this push was placed: push again once it is done`)} >&2`,
    '    exit 1',
    '  fi',
    '  if [ -f "$d/pids" ]; then',
    '    while read -r p; do',
    '      if grep -qaF -- "$d" "/proc/$p/cmdline" 2>/dev/null; then kill -- "-$p" 2>/dev/null || kill -- "$p" 2>/dev/null || :; fi',
    '    done < "$d/pids"',
    '  fi',
    'done',
    `if ${onSystemd}; then systemctl stop ${q(`${UNIT.guard}-*.timer`)} ${q(`${UNIT.apply}-*.timer`)} 2>/dev/null || :; fi`,
    `rm -rf ${q(CUTOVERS)}`,
  ].join('\n');
}

/** The guard: roll back what this batch placed, unless `decided` is already taken. */
export function guardScript(dir: string, batch: Change[], applyNetwork: string): string {
  const undo = batch.map(({ file: f }) =>
    [
      `if [ "$(sha256sum < ${q(f.path)} 2>/dev/null)" = ${q(`${f.sha256}  -`)} ]; then`,
      `  if [ -e ${q(`${f.path}.labgen-prev`)} ]; then cp -p -- ${q(`${f.path}.labgen-prev`)} ${q(`${f.path}.labgen-rb`)} && mv -fT -- ${q(`${f.path}.labgen-rb`)} ${q(f.path)}`,
      `  else rm -f -- ${q(f.path)}; fi`,
      '  undone=1',
      'fi',
    ].join('\n'),
  );
  return [
    '#!/bin/sh',
    '# labgen network cut-over guard: labgen did not confirm from the new address, so the old config comes back',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    // first: a later push that finds `decided` taken waits while this runs (retireScript)
    `{ echo "$$" > ${q(`${dir}/guard.pid`)}; } 2>/dev/null`,
    `mkdir ${q(`${dir}/decided`)} 2>/dev/null || exit 0 # confirmed (or superseded): nothing to do`,
    'undone=0',
    ...undo,
    `echo rolled-back > ${q(`${dir}/outcome`)}`,
    `[ "$undone" = 0 ] || { ${applyNetwork}; }`,
    '',
  ].join('\n');
}

/**
 * What the Pi says of the cut-over: `apply-failed` (the apply command failed), `pending` (not
 * applied yet), `confirmed` if this call took `decided`, or else the outcome the guard or an
 * earlier confirm wrote (waited for a moment: it is written just after `decided`).
 */
export function confirmScript(dir: string): string {
  const at = (name: string) => q(`${dir}/${name}`);
  return [
    `if [ -e ${at('apply-failed')} ]; then echo apply-failed;`,
    `elif [ ! -e ${at('applied')} ]; then echo pending;`,
    `elif mkdir ${at('decided')} 2>/dev/null; then echo confirmed > ${at('outcome')}; echo confirmed;`,
    `else i=0; while [ ! -s ${at('outcome')} ] && [ "$i" -lt 10 ]; do sleep 0.2; i=$((i + 1)); done; cat ${at('outcome')} 2>/dev/null || echo superseded; fi`,
  ].join(' ');
}

/** Keep trying `address` until `deadline`; a refused host key ends the attempts at once. */
async function reach(o: CutoverOptions, address: string, deadline: number): Promise<Remote | Error> {
  let last: Error = new Error('no attempt');
  while (Date.now() < deadline) {
    try {
      return await o.connect(address, Math.max(1000, Math.min(5000, deadline - Date.now())));
    } catch (e) {
      if (e instanceof HostKeyError) return e;
      last = e as Error;
      if (!(e instanceof ConnectError)) return last;
      await sleep(300);
    }
  }
  return last;
}

export async function cutover(remote: Remote, batch: Change[], o: CutoverOptions): Promise<CutoverResult> {
  const token = newToken();
  const dir = `${CUTOVERS}/${token}`;
  const guardSec = Math.ceil((o.confirmTimeoutMs + o.guardMarginMs) / 1000);
  const files = batch.map((c) => c.file);
  const beforePlace = [
    retireScript(),
    `mkdir -p ${q(dir)}`,
    `printf '%s' ${q(guardScript(dir, batch, o.applyNetwork))} > ${q(`${dir}/guard.sh`)}`,
    detached(`${UNIT.guard}-${token}`, guardSec * 1000, `exec sh ${q(`${dir}/guard.sh`)}`, dir, `${dir}/guard.log`),
  ].join('\n');
  // a moment's delay lets this SSH command return before the network moves under it; `applied`
  // only when the apply succeeded (a failed one is rolled back, never confirmed)
  const marks = `${o.applyNetwork} && : > ${q(`${dir}/applied`)} || : > ${q(`${dir}/apply-failed`)}`;
  const afterPlace = detached(`${UNIT.apply}-${token}`, 300, marks, dir, `${dir}/apply.log`);

  o.step(`cut-over ${o.from} → ${o.to}: guard set (${guardSec}s), applying`);
  const guardStart = Date.now();
  await upload(remote, files, { beforePlace, afterPlace }, 'cut-over');
  const deadline = Date.now() + o.confirmTimeoutMs;
  const guardAt = guardStart + guardSec * 1000;
  let answer: Answer | Error | undefined = o.from === o.to ? await confirmOver(remote, dir, deadline) : undefined;
  if (!answer) {
    remote.close(); // its address is gone, or going
    o.step(`cut-over: reaching ${o.to}`);
    answer = await confirmAt(o, dir, deadline);
  }
  if (answer instanceof Error) return settle(o, dir, guardAt, `${o.to} did not answer within ${Math.round(o.confirmTimeoutMs / 1000)}s: ${answer.message}`);
  if (answer.said === 'confirmed') return { outcome: 'confirmed', remote: answer.remote };
  if (answer.said === 'apply-failed') return rollBackNow(answer.remote, dir, o.from);
  answer.remote.close();
  return settle(o, dir, guardAt, `confirmed too late (the guard had fired: ${answer.said})`);
}

/** The Pi could not apply the config: run its guard now rather than wait for it. */
async function rollBackNow(remote: Remote, dir: string, from: string): Promise<CutoverResult> {
  try {
    const [outcome = '', ...log] = (await remote.exec(`sh ${q(`${dir}/guard.sh`)}; cat ${q(`${dir}/outcome`)} ${q(`${dir}/apply.log`)} 2>/dev/null`)).stdout.trim().split('\n');
    const why = `the Pi could not apply the new config${log.length ? ` (${log.slice(-3).join('; ')})` : ''}`;
    return outcome === 'rolled-back'
      ? { outcome: 'rolled-back', reason: `${why}; rolled back, answers at ${from}` }
      : { outcome: 'lost', reason: `${why}; the guard did not roll back (${outcome || 'no outcome'})` };
  } finally {
    remote.close();
  }
}

/** What the Pi said (confirmScript) and the session it said it on. */
interface Answer {
  remote: Remote;
  said: string;
}

/** A poll on the old session that takes longer than this: the session is treated as dropped. */
const STALL_MS = 2000;

/** `confirmScript` over `remote`; undefined when the session dropped, failed or stalled. */
async function ask(remote: Remote, dir: string): Promise<string | undefined> {
  const stall = new AbortController();
  const stalled = sleep(STALL_MS, undefined, { signal: stall.signal }).catch(() => undefined);
  const answer = remote.exec(confirmScript(dir)).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);
  const said = await Promise.race([answer, stalled]);
  stall.abort();
  return said;
}

/**
 * Confirm over the session that uploaded the config (same address), polling until the Pi has
 * applied it (the apply returns once the config is in effect). Undefined when the session
 * dropped or stalled: the caller reconnects instead.
 */
async function confirmOver(remote: Remote, dir: string, deadline: number): Promise<Answer | undefined> {
  while (Date.now() < deadline) {
    await sleep(150);
    const said = await ask(remote, dir);
    if (said !== 'pending') return said === undefined ? undefined : { remote, said };
  }
  return undefined;
}

/**
 * Reach the new address and confirm, polling: the Pi applies the config a moment after the
 * upload, and a session opened before that (same address) may drop when it does.
 */
async function confirmAt(o: CutoverOptions, dir: string, deadline: number): Promise<Answer | Error> {
  let last: Error = new Error('no answer');
  while (Date.now() < deadline) {
    const next = await reach(o, o.to, deadline);
    if (next instanceof Error) return next;
    try {
      const said = (await next.run('confirm cut-over', `mkdir ${dir}/decided`, confirmScript(dir))).trim();
      if (said !== 'pending') return { remote: next, said };
    } catch (e) {
      last = e as Error;
    }
    next.close();
    await sleep(300);
  }
  return last;
}

/** Not confirmed: wait for the guard to roll back, then check the Pi answers at its old address. */
async function settle(o: CutoverOptions, dir: string, guardAt: number, reason: string): Promise<CutoverResult> {
  o.step(`cut-over failed (${reason}); waiting for the Pi's guard to roll back`);
  await sleep(Math.max(0, guardAt - Date.now() + 1500));
  const back = await reach(o, o.from, Date.now() + o.rollbackWaitMs);
  if (back instanceof Error) return { outcome: 'lost', reason: `${reason}; not back at ${o.from} either: ${back.message}` };
  try {
    const outcome = (await back.run('check rollback', `cat ${dir}/outcome`, `cat ${q(`${dir}/outcome`)} 2>/dev/null || echo unknown`)).trim();
    return { outcome: 'rolled-back', reason: `${reason}; rolled back (guard: ${outcome}), answers at ${o.from} again` };
  } finally {
    back.close();
  }
}
