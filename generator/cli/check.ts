import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRunner } from '../../drivers/base/local.js';
import { checkMulticast, type CheckTiming, DEFAULT_CHECK_TIMING } from '../../drivers/check/multicast.js';
import { multicastReport } from '../../drivers/check/report.js';
import { ADMIN_KUBECONFIG } from '../../drivers/up/kubeconfig.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';
import { requireCurrent } from '../lab-folder/current.js';
import { openLabFolder } from '../lab-folder/open.js';
import { K8S_DIR } from '../plan/k8s/folder.js';
import { MULTICAST } from '../plan/k8s/multicast-check.js';

/** `labgen check CHECK`: a check of the running cluster (drivers/check/ does the work). */

export const CHECKS = ['multicast'] as const;

export interface CheckCommandOptions {
  lab: string;
  /** for in-process callers (tests) */
  io?: Partial<Io>;
  /** for in-process callers: added to kubectl's environment (PATH) */
  env?: Record<string, string>;
  timing?: Partial<CheckTiming>;
}

export async function checkCommand(check: string, opts: CheckCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  if (!(CHECKS as readonly string[]).includes(check))
    throw new LabgenError(EXIT.badInput, `no check named ${check}`, { hint: `the checks: ${CHECKS.join(', ')}` });
  const p = openLabFolder(opts.lab);
  const dir = `${K8S_DIR}/${MULTICAST.dir}/`;
  requireCurrent(p, p.decisions.filter((d) => d.path.startsWith(dir)), { nothing: 'nothing was applied', why: `the check applies ${dir}` });
  const kubeconfig = join(p.labDir, ADMIN_KUBECONFIG);
  if (!existsSync(kubeconfig)) throw new LabgenError(EXIT.badInput, `no admin kubeconfig at ${kubeconfig}`, { hint: 'bring the cluster up first: labgen up' });
  const runner = new LocalRunner(opts.env ? { env: opts.env } : {});
  if ((await runner.exec('command -v kubectl')).code !== 0)
    throw new LabgenError(EXIT.badInput, 'kubectl is not on PATH', { hint: "install kubectl (the cluster's version: lab.yaml's cluster.kubernetesVersion)" });
  const result = await checkMulticast(runner, {
    labDir: p.labDir,
    kubeconfig,
    timing: { ...DEFAULT_CHECK_TIMING, ...opts.timing },
    step: (text) => {
      if (io.tty) io.err(`  ${text}`);
    },
  });
  const { out, err } = multicastReport(result, p.lab);
  for (const l of out) io.out(l);
  for (const l of err) io.err(l);
  return result.pass ? EXIT.ok : EXIT.failure;
}
