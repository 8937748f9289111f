/**
 * An older cut-over's guard caught rolling back on a test host, for what a new cut-over does then
 * (drivers/push/cutover.ts retireScript). The guard is the real one (guardScript), started the way
 * a cut-over starts it (`detached`: a systemd timer where systemd runs, else the sleep branch);
 * its batch is one file, put back from its .labgen-prev as in a real rollback, and its apply
 * command, which brings the old network back in a real one, waits until the test releases it.
 */
import { shellQuote as q } from '../../generator/common/quote.js';
import { sha256 } from '../../generator/common/text.js';
import { PI_STAGE } from '../../generator/plan/pi/part.js';
import { detached, guardScript } from '../../drivers/push/cutover.js';
import type { Change } from '../../drivers/push/plan.js';
import type { TestHost } from '../support/test-hosts.js';

export const CUTOVERS = `${PI_STAGE.dir}/cutover`;
const CONF = '/tmp/labgen-rolling.conf';
const RELEASE = '/tmp/labgen-rolling.release';
/** one line per step done: `rolled-back` when the guard's apply ends; a test appends its own */
export const ORDER = '/tmp/labgen-rolling.order';

export interface RollingGuard {
  /** its cut-over folder */
  dir: string;
  /** its apply command ends (idempotent) */
  release(): Promise<void>;
  /** ORDER's lines */
  order(): Promise<string[]>;
}

/** A batch of one file at `path` with `text` (a network config's shape: the cut-over's kind of change). */
export function oneFile(path: string, text: string): Change[] {
  const content = Buffer.from(text);
  return [{ file: { path, content, sha256: sha256(content), mode: 0o644, owner: 'root:root', role: 'target', restart: [], network: true }, why: ['content'] }];
}

/** Start the guard of cut-over `token` and resolve once it is rolling back: it took `decided`, put the old file back and runs its apply command. */
export async function startRollingGuard(host: TestHost, token = 'rolling'): Promise<RollingGuard> {
  const dir = `${CUTOVERS}/${token}`;
  const apply = `while [ ! -e ${RELEASE} ]; do sleep 0.1; done; echo rolled-back >> ${ORDER}`;
  const start = [
    `rm -f ${RELEASE} ${ORDER}`,
    `printf 'new config\\n' > ${CONF}`,
    `printf 'old config\\n' > ${CONF}.labgen-prev`,
    `mkdir -p ${dir}`,
    `printf '%s' ${q(guardScript(dir, oneFile(CONF, 'new config\n'), apply))} > ${dir}/guard.sh`,
    detached(`labgen-guard-${token}`, 10, `exec sh ${q(`${dir}/guard.sh`)}`, dir, `${dir}/guard.log`),
  ].join('\n');
  const r = await host.exec(start);
  if (r.code !== 0) throw new Error(`starting the guard on ${host.name}: ${r.stderr}`);
  const guard: RollingGuard = {
    dir,
    release: async () => void (await host.exec(`touch ${RELEASE}`)),
    order: async () => (await host.exec(`cat ${ORDER} 2>/dev/null || true`)).stdout.split('\n').filter(Boolean),
  };
  // the guard writes its outcome after the files are back and before its apply command
  const rolling = `[ -d ${dir}/decided ] && [ "$(cat ${dir}/outcome 2>/dev/null)" = rolled-back ] && [ "$(cat ${CONF})" = 'old config' ]`;
  const end = Date.now() + 20_000; // a bound for a guard that never fires, not a wait: the loop ends once it rolls back
  while ((await host.exec(rolling)).code !== 0) {
    if (Date.now() > end) {
      await guard.release();
      throw new Error(`the guard on ${host.name} did not start rolling back: ${(await host.exec(`ls -la ${dir}; cat ${dir}/guard.log`)).stdout}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  return guard;
}
