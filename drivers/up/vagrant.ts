import { shellQuote } from '../../generator/common/quote.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { CommandError, failureLines, failureOf, tail } from '../base/failure.js';
import { type ExecOptions, type ExecResult, type Runner, runChecked } from '../base/runner.js';
import { asRoot } from '../base/ssh.js';
import { errorExit, MachineRun, parseLines, pluginsOf, statesOf, type VagrantEvent } from './machine-readable.js';

/**
 * vagrant, run in the lab folder through a local Runner (drivers/base/local.ts), one machine a
 * command: what failed is then always one VM, and the others are left as they are. Every
 * command but `ssh` runs with --machine-readable (machine-readable.ts reads it); a failure is a
 * CommandError naming the VM, the provisioner that was running (common, control-plane, worker)
 * or else the command's action, and the tail of what the provisioner's script printed.
 */

/** Vagrant's words when a shell provisioner's script exits non-zero: "the output … should be in the log above", which the tail shows instead. */
const SCRIPT_FAILED = /^The SSH command responded with a non-zero exit status/;

/** What a failed `vagrant ssh -c` that said nothing on stderr is reported with, in place of its stdout. */
export const SSH_SILENT = 'nothing on stderr (what it printed on stdout is not shown: it may hold credentials)';

const shown = (args: string[]) => ['vagrant', ...args].join(' ');

/** A frame of a Ruby backtrace: when vagrant or a plugin crashes, stderr has the exception's message, then dozens of these. */
const RUBY_FRAME = /^\s+from \S+:\d+:in /;

/** Why a command failed: the script's last lines, then Vagrant's own message (unless it only points at them); else stderr, without a backtrace's frames. */
export function failureTail(run: Pick<MachineRun, 'output' | 'error'>, stderr: string): string {
  const err = run.error;
  const said = err && !SCRIPT_FAILED.test(err.message) ? err.message : '';
  const text = [tail(run.output.join('\n')), said].filter(Boolean).join('\n');
  return text ? tail(text, 12) : tail(stderr.split('\n').filter((l) => !RUBY_FRAME.test(l)).join('\n'));
}

/** `vagrant status`, or a LabgenError saying nothing was done (`nothing`: what was not, e.g. "nothing was started"). */
export async function statesOrStop(vagrant: Vagrant, nothing: string): Promise<Map<string, string>> {
  try {
    return await vagrant.status();
  } catch (e) {
    const f = failureOf(e, 'vagrant', 'vagrant status');
    throw new LabgenError(EXIT.failure, `cannot read the VMs' states; ${nothing}:\n${failureLines(f).join('\n')}`, {
      hint: 'vagrant status in the lab folder shows the same; is the provider running (libvirtd, VirtualBox)?',
    });
  }
}

export class Vagrant {
  constructor(private readonly runner: Runner) {}

  private script(args: string[], machineReadable = true): string {
    return ['vagrant', ...args, ...(machineReadable ? ['--machine-readable'] : [])].map(shellQuote).join(' ');
  }

  private why(r: ExecResult): string {
    const e = errorExit(parseLines(r.stdout));
    return tail(e?.message || r.stderr || r.stdout);
  }

  /** Each machine of the Vagrantfile and its state id (running, not_created, poweroff, shutoff, saved, …). */
  async status(): Promise<Map<string, string>> {
    const r = await this.runner.exec(this.script(['status']));
    if (r.code !== 0) throw new CommandError(this.runner.host, 'vagrant status', shown(['status']), r.code, this.why(r));
    return statesOf(parseLines(r.stdout));
  }

  /** The plugins vagrant has (system ones included). */
  async plugins(): Promise<string[]> {
    const r = await this.runner.exec(this.script(['plugin', 'list']));
    if (r.code !== 0) throw new CommandError(this.runner.host, 'vagrant plugin list', shown(['plugin', 'list']), r.code, this.why(r));
    return pluginsOf(parseLines(r.stdout));
  }

  /** `vagrant ACTION VM ARGS...` (up, provision, reload), its steps reported as they come. */
  async machine(vm: string, args: string[], on: (e: VagrantEvent) => void): Promise<void> {
    const run = new MachineRun(vm, on);
    const r = await this.runner.exec(this.script(args), { onLine: (l) => run.line(l) });
    if (r.code !== 0) throw new CommandError(vm, run.provisioner ?? `vagrant ${args[0]}`, shown(args), r.code, failureTail(run, r.stderr));
  }

  /**
   * A command's stdout on the VM (`vagrant ssh VM -c`, no terminal: the bytes as the command wrote
   * them). A failure says what stderr said, never what stdout did: stdout is the data asked for,
   * which may be a secret (the admin kubeconfig, with its client key) even when the command fails.
   */
  async ssh(vm: string, step: string, command: string): Promise<string> {
    const args = ['ssh', vm, '--no-tty', '-c', command];
    const r = await this.runner.exec(this.script(args, false));
    if (r.code !== 0) throw new CommandError(vm, step, shown(['ssh', vm, '-c', `'${command}'`]), r.code, tail(r.stderr) || SSH_SILENT);
    return r.stdout;
  }

  /** The VM as a Runner, its scripts run as root (the day-2 commands' steps run on a VM or an existing host alike). */
  on(vm: string): Runner {
    return new VmRunner(vm, this.runner);
  }
}

/**
 * A VM through `vagrant ssh VM -c`, as root the way an SSH host runs it (asRoot: `sudo -n`, which
 * Vagrant's user has without a password, and root's PATH and locale).
 * stdin goes through to the command (vagrant execs ssh, which carries it), so a script can be
 * fed from this machine and not read from the synced folder, whatever its kind.
 */
class VmRunner implements Runner {
  constructor(
    readonly host: string,
    private readonly local: Runner,
  ) {}

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.local.exec(['vagrant', 'ssh', this.host, '--no-tty', '-c', asRoot('vagrant', script)].map(shellQuote).join(' '), opts);
  }

  run(step: string, command: string, script: string, opts?: ExecOptions): Promise<string> {
    return runChecked(this, step, command, script, opts);
  }

  close(): void {}
}
