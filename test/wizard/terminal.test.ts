import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SCHEMA_REF } from '../../generator/wizard/lab-yaml.js';
import { describeE2e } from '../support/prereq.js';
import { snapshotTree } from '../support/tree.js';
import { cleanupTemp, CLI, ensureBuilt, FIXTURES, runCli, tempDir } from './support.js';

/**
 * The wizard driven for real: tmux runs `node dist/bin/labgen.js init DIR` in a terminal of a
 * fixed size, send-keys answers each prompt as a user types it, capture-pane reads the screen.
 * Every step waits for the prompt's text to appear (polling, with a timeout) instead of sleeping.
 */

const SOCKET = `labgen-wizard-${process.pid}`;
const WIDTH = 160;
const HEIGHT = 60;
const WAIT_MS = 15_000;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The screen as one line of single-spaced words: a message wrapped by the prompt still matches. */
const flat = (s: string) => s.replace(/\s+/g, ' ');

class Terminal {
  private static count = 0;
  readonly name = `init-${++Terminal.count}`;

  /** Runs `labgen init <args>` in a new tmux session; the shell then prints its exit code and waits. */
  constructor(args: string[]) {
    const command = `${quote(process.execPath)} ${quote(CLI)} init ${args.map(quote).join(' ')}; echo "[labgen exited $?]"; sleep 600`;
    tmux('new-session', '-d', '-s', this.name, '-x', String(WIDTH), '-y', String(HEIGHT), command);
  }

  screen(): string {
    return tmux('capture-pane', '-p', '-J', '-t', this.name);
  }

  /** Waits until the screen shows `text`; on timeout fails with the screen as it was. */
  async waitFor(text: string): Promise<string> {
    const until = Date.now() + WAIT_MS;
    for (;;) {
      const screen = this.screen();
      if (flat(screen).includes(flat(text))) return screen;
      if (Date.now() > until) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${JSON.stringify(text)}; the screen:\n${screen}`);
      await sleep(50);
    }
  }

  /** Waits for the prompt `message` to be the active question (inquirer's "? " prefix). */
  prompt(message: string): Promise<string> {
    return this.waitFor(`? ${message}`);
  }

  type(text: string): void {
    tmux('send-keys', '-t', this.name, '-l', text);
  }

  keys(...keys: string[]): void {
    for (const k of keys) tmux('send-keys', '-t', this.name, k);
  }

  /** Answers the prompt `message`: types `text` (nothing: the default) and presses Enter. */
  async answer(message: string, text = ''): Promise<void> {
    await this.prompt(message);
    if (text) this.type(text);
    this.keys('Enter');
  }

  async exitCode(): Promise<number> {
    const screen = await this.waitFor('[labgen exited ');
    return Number(/\[labgen exited (\d+)\]/.exec(screen)![1]);
  }

  close(): void {
    tmux('kill-session', '-t', this.name);
  }
}

describeE2e('labgen init in a real terminal (tmux)', { commands: ['tmux'] }, () => {
  const open: Terminal[] = [];
  const start = (args: string[]) => {
    const t = new Terminal(args);
    open.push(t);
    return t;
  };

  beforeAll(ensureBuilt, 180_000);
  afterEach(() => {
    for (const t of open.splice(0)) t.close();
  });
  afterAll(() => {
    // the server ends with its last session; if one is left, end it (quietly when there is none)
    try {
      execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // no server: it ended with its last session
    }
    cleanupTemp();
  });

  it('answers every prompt; a Pi IP that is the gateway is refused with the reason; the lab.yaml is the expected one', async () => {
    const dir = join(tempDir(), 'garage');
    const t = start([dir]);
    await t.answer('Lab name', 'garage');
    await t.answer('Lab domain (every host name ends in it)', 'garage.lab');
    await t.answer('LAN subnet of the laptop and the Pis (CIDR)', '192.168.50.0/24');
    // the defaults that follow follow the subnet
    expect(await t.prompt('LAN gateway (the laptop, sharing its Wi-Fi)')).toContain('(192.168.50.1)');
    t.keys('Enter');
    expect(await t.prompt('Control-plane VM IP')).toContain('(192.168.50.210)');
    t.keys('Enter');
    await t.answer('Control-plane VM CPUs', '4');
    await t.answer('Control-plane VM memory (MiB)');
    await t.answer('Worker VMs (0: the control plane is the whole cluster)', '2');
    await t.answer('First worker VM IP (the others follow it)');
    await t.answer('CPUs per worker VM');
    await t.answer('Memory per worker VM (MiB)');
    await t.answer('Raspberry Pis', '3');
    await t.answer('Pi names, comma-separated', 'pi-a,pi-b,pi-c');

    // the first Pi IP clashes with the gateway: refused at the prompt, with the model's reason
    await t.answer('First Pi IP (the others follow it)', '192.168.50.1');
    const refused = await t.waitFor('pis.nodes[0].ip: 192.168.50.1 is already used by network.gateway');
    expect(refused).toMatch(/^> pis\.nodes\[0\]\.ip: 192\.168\.50\.1 is already used by network\.gateway$/m);
    expect(refused).not.toContain('? Raspberry Pi OS release');
    t.keys('C-u'); // clear the field, as a user would
    t.type('192.168.50.51');
    t.keys('Enter');
    await t.waitFor('First Pi IP (the others follow it) 192.168.50.51');

    await t.prompt('Raspberry Pi OS release');
    t.keys('Down', 'Enter'); // bookworm → trixie
    await t.answer('Storage Pi (NFS volumes for the cluster)'); // pi-a
    await t.prompt('apt cache Pi (apt-cacher-ng for every Pi and VM)');
    t.keys('Down', 'Enter'); // pi-a → pi-b

    // services: cert-manager off is refused (the registry needs it); then monitoring off
    await t.prompt('Services to run in the cluster');
    t.keys('Down', 'Down', 'Down', 'Space', 'Enter');
    await t.waitFor('services.registry: needs services.certManager');
    t.keys('Space', 'Down', 'Down', 'Down', 'Space', 'Enter');
    await t.waitFor('Services to run in the cluster metallb, coredns, gateway, certManager, headlamp, registry, tftp, sftp');

    await t.answer('Slurm controller (slurmctld)'); // k8s
    await t.answer('Slurm compute nodes'); // pi-c, the only compute Pi
    expect(await t.exitCode()).toBe(0);

    const expected = readFileSync(join(FIXTURES, 'garage.lab.yaml'), 'utf8').replace('@SCHEMA@', SCHEMA_REF);
    expect(readFileSync(join(dir, 'lab.yaml'), 'utf8')).toBe(expected);
    expect((await runCli(['generate', '--check', '--lab', join(dir, 'lab.yaml')])).code).toBe(0);
  });

  it('Ctrl+C in the middle: exit 130 and the target folder (absent) is not created', async () => {
    const dir = join(tempDir(), 'lab');
    const t = start([dir]);
    await t.answer('Lab name', 'half');
    await t.prompt('Lab domain (every host name ends in it)');
    t.type('half.la');
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    expect(t.screen()).toContain('labgen: init cancelled; nothing was written');
    expect(existsSync(dir)).toBe(false);
  });

  it('Ctrl+C in the middle: an existing empty folder is left empty', async () => {
    const dir = join(tempDir(), 'lab');
    mkdirSync(dir);
    const before = snapshotTree(dir, true);
    const t = start([dir]);
    for (const [message, text] of [
      ['Lab name', ''],
      ['Lab domain (every host name ends in it)', ''],
      ['LAN subnet of the laptop and the Pis (CIDR)', ''],
    ]) await t.answer(message!, text);
    await t.prompt('LAN gateway (the laptop, sharing its Wi-Fi)');
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    expect(snapshotTree(dir, true)).toEqual(before);
  });
});
