import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KnownHostsFile } from '../../drivers/base/known-hosts.js';
import { LocalRunner } from '../../drivers/base/local.js';
import { progressFor } from '../../drivers/base/progress.js';
import { ClusterAccess } from '../../drivers/node/access.js';
import { forgetHost, removeNode } from '../../drivers/node/remove.js';
import { hostsReport } from '../../drivers/node/report.js';
import { resetCluster } from '../../drivers/node/reset.js';
import { fingerprintsByNode } from '../../drivers/adopt/lab.js';
import { DEFAULT_HOSTS_TIMING, type HostsTiming } from '../../drivers/up/hosts.js';
import { checkKubeconfig, kubeconfigTarget } from '../../drivers/up/kubeconfig.js';
import { requirePrereqs } from '../../drivers/up/prereq.js';
import { openUpFolder, upFiles } from '../../drivers/up/targets.js';
import { KNOWN_HOSTS } from '../common/layout.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError, LabValidationError } from '../errors.js';
import { openLabFolder } from '../lab-folder/open.js';
import { withoutWorker, withWorker } from '../model/lab-edit.js';
import { loadLab, parseLabYaml } from '../model/load.js';
import type { Lab } from '../model/defaults.js';
import { onExistingHosts, vms } from '../model/hosts.js';
import { BASTION } from '../plan/support/cluster-hosts.js';
import { askFirst } from './confirm.js';
import { generate } from './generate.js';
import { upCommand } from './up.js';

/**
 * The day-2 commands (issue #14), for VMs and existing hosts alike: `labgen node add`, `labgen
 * node remove`, `labgen reset`. Glue: lab.yaml edited (model/lab-edit.ts) and written with the
 * regenerated folder in one transaction (generate), the hosts' side in drivers/node/.
 */

export interface DayTwoOptions {
  lab: string;
  /** for in-process callers (tests): where output goes */
  io?: Partial<Io>;
  /** for in-process callers: added to the environment of vagrant and kubectl (PATH) */
  env?: Record<string, string>;
  timing?: Partial<HostsTiming>;
  /** for in-process callers: the question asked first (default: an @inquirer/prompts confirm) */
  confirm?: (message: string) => Promise<boolean>;
}

export interface NodeAddOptions extends DayTwoOptions {
  ip?: string;
  disk?: string;
  /** false (--no-up): lab.yaml and the lab folder only */
  up?: boolean;
  fingerprint?: string[];
  mergeKubeconfig?: boolean;
}

export interface NodeRemoveOptions extends DayTwoOptions {
  yes?: boolean;
  force?: boolean;
}

/** lab.yaml as it is, and what it would be: checked like any lab.yaml before anything is written. */
function edited(labFile: string, what: string, edit: (text: string) => string): string {
  // written anew by rename: a link would be replaced by a file, its target left as it was
  if (existsSync(labFile) && lstatSync(labFile).isSymbolicLink())
    throw new LabgenError(EXIT.badInput, `${what}: ${labFile} is a symbolic link; labgen edits only a lab.yaml that is a file (nothing was changed)`, {
      hint: 'make the change in the file it points to by hand, then labgen generate and labgen up',
    });
  const text = readFileSync(labFile, 'utf8');
  const next = edit(text);
  try {
    parseLabYaml(next, labFile);
  } catch (e) {
    if (e instanceof LabValidationError) throw new LabgenError(EXIT.badInput, `${what}: ${labFile} would not be a valid lab (nothing was changed):\n${e.problems.map((p) => `  - ${p}`).join('\n')}`);
    throw e;
  }
  return next;
}

/** lab.yaml and the lab folder, written together (a hand-edited file stops both: exit 3). */
const regenerate = (labFile: string, labText: string, io: Io, left: string[] = []) => generate({ lab: labFile, labText, left }, { ...io, interactive: false });

/**
 * What `labgen up` will be asked after the edit, checked before it: --fingerprint (existing hosts
 * only; one without a name is the new host's), --merge-kubeconfig's file. Bad input is refused
 * while nothing is written yet. The --fingerprint values as up takes them.
 */
function upArguments(name: string, lab: Lab, next: Lab, opts: NodeAddOptions): string[] {
  const given = opts.fingerprint ?? [];
  if (given.length && !onExistingHosts(lab)) throw new LabgenError(EXIT.badInput, '--fingerprint: only for cluster.provider existing (a VM presents the host key labgen made for it)');
  if (given.length && opts.up === false) throw new LabgenError(EXIT.badInput, '--fingerprint confirms the key when labgen up first reaches the host: leave out --no-up, or give it to labgen up later');
  const named = given.map((v) => (v.includes('=') ? v : `${name}=${v}`));
  fingerprintsByNode(named, [...vms(next).map((v) => v.name), ...(next.cluster.ssh?.bastion ? [BASTION] : [])], { one: 'host', all: "the lab's hosts" });
  if (opts.mergeKubeconfig) checkKubeconfig(kubeconfigTarget({ ...process.env, ...opts.env }));
  return named;
}

export async function nodeAdd(name: string, opts: NodeAddOptions): Promise<number> {
  const io = ioOf(opts.io);
  const labFile = resolve(opts.lab);
  const lab = loadLab(labFile);
  const text = edited(labFile, `labgen node add ${name}`, (t) => withWorker(t, lab, { name, ...(opts.ip ? { ip: opts.ip } : {}), ...(opts.disk ? { disk: opts.disk } : {}) }, labFile));
  const fingerprint = upArguments(name, lab, parseLabYaml(text, labFile), opts);
  const code = await regenerate(labFile, text, io);
  if (code !== EXIT.ok) return code;
  io.out(`${name}: added to ${labFile}`);
  if (opts.up === false) {
    io.out(`next: labgen up brings ${name} into the cluster${onExistingHosts(lab) ? ` (its host key confirmed on a terminal, or with --fingerprint ${name}=SHA256:…)` : ''}`);
    return EXIT.ok;
  }
  const { env, timing, mergeKubeconfig } = opts;
  return upCommand({ lab: labFile, fingerprint, io: opts.io ?? {}, ...(env ? { env } : {}), ...(timing ? { timing } : {}), ...(mergeKubeconfig ? { mergeKubeconfig } : {}) });
}

/** What the hosts' side needs: the lab folder (current), a runner here, the way to each host and the API. */
async function clusterOf(opts: DayTwoOptions) {
  const p = openUpFolder(opts.lab);
  upFiles(p); // refuses a lab folder that is out of date, as up does: its reset.sh and kubeconfig are what lab.yaml says
  await requirePrereqs(new LocalRunner(opts.env ? { env: opts.env } : {}), p.lab.cluster.provider);
  const local = new LocalRunner({ cwd: p.labDir, ...(opts.env ? { env: opts.env } : {}) });
  const knownHosts = new KnownHostsFile(join(p.labDir, KNOWN_HOSTS));
  const timing = { ...DEFAULT_HOSTS_TIMING, ...opts.timing };
  const access = new ClusterAccess({ labDir: p.labDir, lab: p.lab, local, privateKey: p.secrets.secrets.sshKey.private, knownHosts, connectTimeoutMs: timing.connectTimeoutMs });
  return { p, local, knownHosts, access, close: () => (access.close(), local.close()) };
}

export async function nodeRemove(name: string, opts: NodeRemoveOptions): Promise<number> {
  const io = ioOf(opts.io);
  const labFile = resolve(opts.lab);
  const text = edited(labFile, `labgen node remove ${name}`, (t) => withoutWorker(t, loadLab(labFile), name, labFile));
  const c = await clusterOf(opts);
  try {
    // a hand edit the regeneration would stop at: found now, before any host is touched
    if (openLabFolder(labFile, { labText: text }).decisions.some((d) => d.action === 'conflict'))
      throw new LabgenError(EXIT.conflict, `labgen node remove ${name}: files of the lab folder were changed by hand; nothing was done`, {
        hint: 'settle them first with `labgen generate` (keep or overwrite each), then run labgen node remove again',
      });
    const vm = !onExistingHosts(c.p.lab);
    const does = `removing ${name} drains its pods to the other nodes and runs kubeadm reset on it${vm ? ', then destroys the VM' : ''}`;
    if (!(await askFirst(io, opts, { ask: `Remove ${name} from the lab? This ${does.replace(/^removing \S+ /, '')}.`, does, withYes: `labgen node remove ${name} --yes` }))) {
      io.err('labgen: not removed: nothing was done');
      return EXIT.failure;
    }
    const progress = progressFor([name], io.tty, io.out);
    const o = await removeNode({ labDir: c.p.labDir, lab: c.p.lab, name, access: c.access, local: c.local, force: !!opts.force, progress }).finally(() => progress.end());
    const report = hostsReport([o]);
    report.out.forEach(io.out);
    if (!o.ok) {
      io.err(`labgen: ${name} was not removed; lab.yaml still lists it`);
      report.err.forEach(io.err);
      io.err(`hint: when ${name} is gone for good (down, or wiped), labgen node remove ${name} --force goes past what fails on it`);
      return EXIT.failure;
    }
  } finally {
    c.close();
  }
  const code = await regenerate(labFile, text, io, [name]);
  if (code !== EXIT.ok) {
    io.err(`labgen: ${name} is out of the cluster, but ${labFile} still lists it: once the above is fixed, labgen node remove ${name} again finishes it`);
    return code;
  }
  for (const w of forgetHost(c.p.labDir, c.p.lab, name, c.knownHosts)) io.err(`labgen: warning: ${w}`);
  io.out(`${name}: removed from the cluster and from ${labFile}; its pins in ${KNOWN_HOSTS} and labgen up's record of it are gone`);
  return EXIT.ok;
}

export async function resetCommand(opts: NodeRemoveOptions): Promise<number> {
  const io = ioOf(opts.io);
  const c = await clusterOf(opts);
  try {
    const does = `labgen reset runs kubeadm reset on every host of ${c.p.lab.name}: every workload and everything stored in the cluster is gone`;
    if (!(await askFirst(io, opts, { ask: `Reset the cluster of ${c.p.lab.name}? kubeadm reset runs on every host; every workload and everything stored in the cluster is gone (labgen up makes a new one).`, does, withYes: 'labgen reset --yes' }))) {
      io.err('labgen: not reset: nothing was done');
      return EXIT.failure;
    }
    const progress = progressFor(vms(c.p.lab).map((v) => v.name), io.tty, io.out);
    const results = await resetCluster({ labDir: c.p.labDir, lab: c.p.lab, access: c.access, progress }).finally(() => progress.end());
    const report = hostsReport(results);
    report.out.forEach(io.out);
    if (results.some((r) => !r.ok)) {
      io.err(`labgen: reset failed on ${results.filter((r) => !r.ok).map((r) => r.host).join(', ')}; the others were reset`);
      report.err.forEach(io.err);
      return EXIT.failure;
    }
    io.out('reset: the cluster is gone, the hosts are kept; labgen up makes a new one');
    return EXIT.ok;
  } finally {
    c.close();
  }
}
