/**
 * Vagrant's `--machine-readable` output, read line by line. Each line is
 * `timestamp,target,type,data...` (Vagrant's "Machine Readable Output" docs): `target` is the
 * machine a line is about (empty for the environment), and inside each data field Vagrant writes
 * a comma as `%!(VAGRANT_COMMA)`, a newline as `\n` and a carriage return as `\r` (lib/vagrant/ui.rb,
 * MachineReadable#machine). The types labgen reads:
 *   ui            data: level (info, detail, output, warn, error, success), message. A machine's
 *                 messages carry its prefix on every line: `==> NAME: ` (info), `    NAME: ` (detail,
 *                 which is what a shell provisioner's script prints, stdout and stderr alike).
 *   action        data: action name (up, provision, reload), start | end.
 *   state         data: the state id (`vagrant status`): running, not_created, poweroff, shutoff, …
 *   plugin-name   data: an installed plugin (`vagrant plugin list`).
 *   error-exit    data: error class, message: why the command failed (its exit code is non-zero).
 */

export interface MachineLine {
  timestamp: number;
  target: string;
  type: string;
  data: string[];
}

const unescape = (field: string) => field.replace(/%!\(VAGRANT_COMMA\)/g, ',').replace(/\\n/g, '\n').replace(/\\r/g, '\r');

/** One line, or undefined for a line that is not machine-readable (a plugin's stray print, a Ruby warning). */
export function parseLine(line: string): MachineLine | undefined {
  const m = /^(\d+),([^,]*),([^,]+)(?:,(.*))?$/.exec(line.replace(/\r$/, ''));
  if (!m) return undefined;
  return { timestamp: Number(m[1]), target: m[2]!, type: m[3]!, data: m[4] === undefined ? [] : m[4].split(',').map(unescape) };
}

export const parseLines = (text: string): MachineLine[] => text.split('\n').flatMap((l) => parseLine(l) ?? []);

/** A ui line's message without the machine's prefix on each of its lines. */
export function uiText(l: MachineLine): { level: string; lines: string[] } {
  const [level = '', message = ''] = l.data;
  const prefix = l.target ? new RegExp(`^(?:==> | {4})${l.target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ?`) : undefined;
  return { level, lines: message.split('\n').map((line) => (prefix ? line.replace(prefix, '') : line)) };
}

/** `vagrant status --machine-readable`: each machine's state id. */
export function statesOf(lines: MachineLine[]): Map<string, string> {
  return new Map(lines.filter((l) => l.type === 'state' && l.target).map((l) => [l.target, l.data[0] ?? '']));
}

/** `vagrant plugin list --machine-readable`: the plugins' names. */
export const pluginsOf = (lines: MachineLine[]): string[] => lines.filter((l) => l.type === 'plugin-name').map((l) => l.data[0] ?? '');

/** The error a failed command ends with (`error-exit`), if it printed one. */
export function errorExit(lines: MachineLine[]): { kind: string; message: string } | undefined {
  const e = lines.filter((l) => l.type === 'error-exit').pop();
  return e && { kind: e.data[0] ?? '', message: e.data.slice(1).join(',') };
}

/** "Running provisioner: control-plane (shell)..." → control-plane (Vagrant prints the name, then the type). */
const PROVISIONER = /^Running provisioner: (.+?)(?: \([^()]*\))?\.\.\.$/;

/** What a running `vagrant up|provision|reload NAME` tells about NAME: its steps as they come. */
export type VagrantEvent = { kind: 'step'; text: string } | { kind: 'provisioner'; name: string } | { kind: 'output'; text: string };

/**
 * Follows one machine through a command's output: the provisioner running now and what its
 * script printed (for a failure's tail), and the error the command ended with.
 */
export class MachineRun {
  provisioner?: string;
  /** the lines the current provisioner's script printed (the last 200) */
  readonly output: string[] = [];
  lines: MachineLine[] = [];

  constructor(
    readonly machine: string,
    private readonly on: (e: VagrantEvent) => void = () => undefined,
  ) {}

  line(raw: string): void {
    const l = parseLine(raw);
    if (!l) return;
    this.lines.push(l);
    if (l.type !== 'ui' || (l.target && l.target !== this.machine)) return;
    const { level, lines } = uiText(l);
    for (const text of lines) {
      if (!l.target) continue; // the environment's own messages: the error at the end, a summary
      const p = PROVISIONER.exec(text);
      if (p) {
        this.provisioner = p[1]!;
        this.output.length = 0;
        this.on({ kind: 'provisioner', name: this.provisioner });
      } else if (level === 'detail') {
        // the shell provisioner's own first line names the temp copy of the script: not the script's output
        if (!this.output.length && /^Running: (?:.*vagrant-shell|script: |inline script)/.test(text)) continue;
        this.output.push(text);
        if (this.output.length > 200) this.output.shift();
        this.on({ kind: 'output', text });
      } else if (text.trim()) this.on({ kind: 'step', text: text.trim() });
    }
  }

  get error(): { kind: string; message: string } | undefined {
    return errorExit(this.lines);
  }
}
