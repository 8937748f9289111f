import { LocalRunner } from '../../drivers/base/local.js';
import { progressFor } from '../../drivers/base/progress.js';
import { checkKubeconfig, kubeconfigTarget } from '../../drivers/up/kubeconfig.js';
import { requirePrereqs } from '../../drivers/up/prereq.js';
import { upReport } from '../../drivers/up/report.js';
import { openUpFolder, upFiles } from '../../drivers/up/targets.js';
import { DEFAULT_UP_TIMING, type UpResult, type UpTiming, upLab } from '../../drivers/up/up.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT } from '../errors.js';

/** `labgen up`: the lab's VMs and cluster brought to what the lab folder says (drivers/up/ does the work, on drivers/base/). */

export interface UpCommandOptions {
  lab: string;
  mergeKubeconfig?: boolean;
  /** for in-process callers (tests): where output goes */
  io?: Partial<Io>;
  /** for in-process callers: added to the environment of vagrant, kubectl and k8s/apply.sh (PATH), and read for HOME and KUBECONFIG */
  env?: Record<string, string>;
  /** for in-process callers: how long and how often to wait for the nodes */
  timing?: Partial<UpTiming>;
  /** for in-process callers: the result, before the report is printed */
  onResult?: (r: UpResult) => void;
}

export async function upCommand(opts: UpCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  const p = openUpFolder(opts.lab);
  const mergeInto = opts.mergeKubeconfig ? kubeconfigTarget({ ...process.env, ...opts.env }) : undefined;
  if (mergeInto) checkKubeconfig(mergeInto);
  await requirePrereqs(new LocalRunner(opts.env ? { env: opts.env } : {}), p.lab.cluster.provider);
  const now = upFiles(p);
  const result = await upLab({
    labDir: p.labDir,
    lab: p.lab,
    now,
    ...(opts.env ? { env: opts.env } : {}),
    timing: { ...DEFAULT_UP_TIMING, ...opts.timing },
    progress: (hosts) => progressFor(hosts, io.tty, io.out),
    ...(mergeInto ? { mergeInto } : {}),
  });
  opts.onResult?.(result);
  const { out, err } = upReport(result, p.lab);
  for (const l of out) io.out(l);
  for (const l of err) io.err(l);
  return result.ok ? EXIT.ok : EXIT.failure;
}
