import { join } from 'node:path';
import { terminalAsker } from '../../drivers/adopt/ask.js';
import { fingerprintsByNode } from '../../drivers/adopt/lab.js';
import { KnownHostsFile } from '../../drivers/base/known-hosts.js';
import { LocalRunner } from '../../drivers/base/local.js';
import { progressFor } from '../../drivers/base/progress.js';
import { DEFAULT_HOSTS_TIMING, type HostsTiming, upHosts } from '../../drivers/up/hosts.js';
import { checkKubeconfig, kubeconfigTarget } from '../../drivers/up/kubeconfig.js';
import { requirePrereqs } from '../../drivers/up/prereq.js';
import { upReport } from '../../drivers/up/report.js';
import { openUpFolder, upFiles } from '../../drivers/up/targets.js';
import { DEFAULT_UP_TIMING, type UpResult, upLab } from '../../drivers/up/up.js';
import { KNOWN_HOSTS } from '../common/layout.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';
import type { LabFolder } from '../lab-folder/open.js';
import { onExistingHosts, vms } from '../model/hosts.js';
import { BASTION } from '../plan/support/cluster-hosts.js';

/** `labgen up`: the lab's VMs (or existing hosts) and cluster brought to what the lab folder says (drivers/up/ does the work, on drivers/base/). */

export interface UpCommandOptions {
  lab: string;
  mergeKubeconfig?: boolean;
  /** existing hosts: `SHA256:…` (one host) or `NODE=SHA256:…`, confirming a host key seen for the first time */
  fingerprint?: string[];
  /** for in-process callers (tests): where output goes */
  io?: Partial<Io>;
  /** for in-process callers: added to the environment of vagrant, kubectl and k8s/apply.sh (PATH), and read for HOME and KUBECONFIG */
  env?: Record<string, string>;
  /** for in-process callers: how long and how often to wait for the nodes (and to connect to existing hosts) */
  timing?: Partial<HostsTiming>;
  /** for in-process callers: the result, before the report is printed */
  onResult?: (r: UpResult) => void;
}

/** Existing hosts: every one over SSH, its key checked (first contact: confirmed on the terminal or by --fingerprint). */
async function upExisting(p: LabFolder, opts: UpCommandOptions, io: Io, mergeInto: string | undefined): Promise<UpResult> {
  const names = [...vms(p.lab).map((v) => v.name), ...(p.lab.cluster.ssh?.bastion ? [BASTION] : [])];
  const fingerprints = fingerprintsByNode(opts.fingerprint ?? [], names, { one: 'host', all: "the lab's hosts" });
  const interactive = io.tty && Boolean(process.stdin.isTTY);
  const asker = interactive
    ? await terminalAsker(io.out, 'the lab did not make it: the host made its own. On the host, on its console or a login you trust, run:')
    : undefined;
  return upHosts({
    labDir: p.labDir,
    lab: p.lab,
    now: upFiles(p),
    privateKey: p.secrets.secrets.sshKey.private,
    knownHosts: new KnownHostsFile(join(p.labDir, KNOWN_HOSTS)),
    fingerprints,
    ...(asker ? { confirmKey: asker.confirmKey } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    timing: { ...DEFAULT_UP_TIMING, ...DEFAULT_HOSTS_TIMING, ...opts.timing },
    // plain lines on a terminal that asks: a live view would draw over the questions
    progress: (hosts) => progressFor(hosts, io.tty && !interactive, io.out),
    ...(mergeInto ? { mergeInto } : {}),
  });
}

export async function upCommand(opts: UpCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  const p = openUpFolder(opts.lab);
  const mergeInto = opts.mergeKubeconfig ? kubeconfigTarget({ ...process.env, ...opts.env }) : undefined;
  if (mergeInto) checkKubeconfig(mergeInto);
  await requirePrereqs(new LocalRunner(opts.env ? { env: opts.env } : {}), p.lab.cluster.provider);
  let result: UpResult;
  if (onExistingHosts(p.lab)) result = await upExisting(p, opts, io, mergeInto);
  else {
    if (opts.fingerprint?.length) throw new LabgenError(EXIT.badInput, '--fingerprint: only for cluster.provider existing (a VM presents the host key labgen made for it)');
    result = await upLab({
      labDir: p.labDir,
      lab: p.lab,
      now: upFiles(p),
      ...(opts.env ? { env: opts.env } : {}),
      timing: { ...DEFAULT_UP_TIMING, ...opts.timing },
      progress: (hosts) => progressFor(hosts, io.tty, io.out),
      ...(mergeInto ? { mergeInto } : {}),
    });
  }
  opts.onResult?.(result);
  const { out, err } = upReport(result, p.lab);
  for (const l of out) io.out(l);
  for (const l of err) io.err(l);
  return result.ok ? EXIT.ok : EXIT.failure;
}
