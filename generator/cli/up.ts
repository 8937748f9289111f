import { LocalRunner } from '../../drivers/base/local.js';
import { progressFor } from '../../drivers/base/progress.js';
import { endpointLines } from '../../drivers/up/endpoints.js';
import { checkKubeconfig, kubeconfigTarget } from '../../drivers/up/kubeconfig.js';
import { requirePrereqs } from '../../drivers/up/prereq.js';
import { didNothing, failedHosts, upFailureLines, upTable } from '../../drivers/up/report.js';
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
  report(result, p.lab, io);
  return result.ok ? EXIT.ok : EXIT.failure;
}

function report(r: UpResult, lab: Parameters<typeof endpointLines>[0], io: Io): void {
  io.out('');
  for (const l of upTable(r)) io.out(l);
  for (const n of r.notes) io.out(`note: ${n}`);
  if (r.merged) {
    io.out(`kubeconfig: the context ${lab.name} in ${r.merged.file}${r.merged.created ? ' (created)' : ''}; kubectl config use-context ${lab.name}`);
    if (r.merged.modeWas !== undefined) io.out(`  ${r.merged.file} was mode ${r.merged.modeWas.toString(8)}: now 600 (it holds cluster-admin credentials)`);
  }
  if (!r.ok) {
    io.err(`labgen: up failed on ${failedHosts(r).join(', ')}; the other VMs are as they were (labgen up again resumes)`);
    for (const l of upFailureLines(r)) io.err(`  ${l}`);
    return;
  }
  io.out(didNothing(r) ? 'up to date: every VM runs as provisioned and k8s/ as applied; nothing to do' : `up: ${r.vms.length} VM(s) running, the cluster Ready`);
  for (const l of endpointLines(lab, r.merged)) io.out(l);
}
