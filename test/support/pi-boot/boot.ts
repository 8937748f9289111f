/**
 * Booting a Pi image for real, under QEMU (an x86 guest standing in for the Pi's arm board),
 * the way the Pi's firmware does: each boot reads config.txt and cmdline.txt from the boot
 * partition and loads the kernel and initramfs config.txt names from there. QEMU runs with
 * -no-reboot, so a guest's reboot ends QEMU and the harness boots the image again, reading
 * the boot partition anew: that is how first-boot scripts' edits of cmdline.txt take effect.
 * A guest that powers off stays off.
 *
 * QEMU: TCG (the machine's /dev/kvm is nested and hangs guests), 2 vCPUs, 1 GiB; the disk and
 * NIC are virtio (the NIC at PCI slot 3, which the guest names GUEST_NIC), a virtio RNG stands
 * in for the Pi's hardware RNG, ttyS0 is logged per boot, a QMP socket lets poweroff() press
 * the power button.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { copyBootFileOut, readBootFile } from './disk.js';
import { onProcessEnd } from '../process-end.js';
import { killQuietly, makeTempDir, removeTempDir, sleep } from './exec.js';
import { Net, type PiNet } from './net.js';

/**
 * The name the guest gives its NIC: systemd's predictable name for a NIC in PCI slot 3 (where
 * bootPi puts it). A lab booted here sets `pis.interface` to it (a Pi's own is eth0).
 */
export const GUEST_NIC = 'ens3';

export interface BootedPi {
  name: string;
  mac: string;
  /** boots started so far (1 while the first runs) */
  boots(): number;
  /** serial console output of every boot so far, each after a `=== boot N ===` line */
  log(): string;
  /** the last `lines` lines of log(), for failure messages */
  tail(lines?: number): string;
  /** until ip:22 answers with an SSH banner, polled from inside the net; default 5 min */
  waitForSsh(ip: string, timeoutMs?: number): Promise<void>;
  /** until the n-th boot has started; default 10 min */
  waitForBoots(n: number, timeoutMs?: number): Promise<void>;
  /** until the serial log matches; returns the match; default 10 min */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** press the power button (ACPI) and wait for the guest to power off; killed after timeoutMs (default 3 min) */
  poweroff(timeoutMs?: number): Promise<void>;
  /** kill QEMU, remove its tap and files (the log stays readable); idempotent */
  stop(): Promise<void>;
}

/** A boot loop (a guest that resets again and again) ends the Pi rather than running forever. */
const MAX_BOOTS = 12;
const MINUTE = 60_000;

/** What the firmware would load: config.txt's kernel= and initramfs lines, outside [other] sections. */
export function firmwareConfig(text: string): { kernel: string; initramfs?: string } {
  let active = true;
  let kernel: string | undefined;
  let initramfs: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const section = /^\[(.*)\]$/.exec(line);
    // the stand-in board matches no model filter ([pi4], [cm5], …): only [all] applies
    if (section) active = section[1] === 'all';
    else if (active && line.startsWith('kernel=')) kernel = line.slice('kernel='.length).trim();
    else if (active && line.startsWith('initramfs ')) initramfs = line.split(/\s+/)[1];
  }
  if (!kernel) throw new Error('config.txt names no kernel= (the stand-in firmware does not guess one)');
  return { kernel, initramfs };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

class Pi implements BootedPi {
  private bootCount = 0;
  private proc?: ChildProcess;
  private stopping = false;
  private stopped?: Promise<void>;
  private ended?: string; // why no further boot comes: powered off, failed, boot loop, stopped
  private loopDone?: Promise<void>;
  private savedLog?: string;
  private qemuStderr = '';
  private readonly unregister: () => void;

  constructor(
    private readonly net: Net,
    private readonly image: string,
    private readonly dir: string,
    private readonly tap: string,
    readonly name: string,
    readonly mac: string,
  ) {
    this.unregister = onProcessEnd(() => this.killQemu());
  }

  /** Kill the running QEMU, if one runs (never a pid that may have been reused). */
  private killQemu(): void {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) killQuietly(proc.pid);
  }

  start(): void {
    this.loopDone = this.loop().catch((err: Error) => {
      this.ended = `boot ${this.bootCount} could not start: ${err.message}`;
    });
  }

  boots(): number {
    return this.bootCount;
  }

  log(): string {
    if (this.savedLog !== undefined) return this.savedLog;
    let text = '';
    for (let n = 1; n <= this.bootCount; n++) {
      const file = this.serialFile(n);
      text += `=== boot ${n} ===\n${existsSync(file) ? readFileSync(file, 'latin1') : ''}\n`;
    }
    return text;
  }

  tail(lines = 60): string {
    // serial output has CRs and colour codes: drop them for a readable failure message
    const clean = this.log().replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const head = `--- ${this.name}: ${this.bootCount} boot(s)${this.ended ? `, ${this.ended}` : ''}; serial log tail ---\n`;
    return head + clean.split('\n').slice(-lines).join('\n');
  }

  async waitForBoots(n: number, timeoutMs = 10 * MINUTE): Promise<void> {
    await this.waitFor(`boot ${n}`, timeoutMs, async () => this.bootCount >= n);
  }

  async waitForLog(pattern: RegExp, timeoutMs = 10 * MINUTE): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await this.waitFor(`serial output ${pattern}`, timeoutMs, async () => (match = this.log().match(pattern)) !== null);
    return match!;
  }

  async waitForSsh(ip: string, timeoutMs = 5 * MINUTE): Promise<void> {
    await this.waitFor(`SSH on ${ip}:22`, timeoutMs, async () => (await this.net.probeTcp(ip, 22)).startsWith('SSH-'), 2000);
  }

  /** Poll `done` until true; fail early when no further boot can bring it, or at the deadline. */
  private async waitFor(what: string, timeoutMs: number, done: () => Promise<boolean>, everyMs = 1000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await done()) return;
      if (this.ended) throw new Error(`${this.name}: no ${what}: ${this.ended}\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${Math.round(timeoutMs / 1000)} s\n${this.tail()}`);
      await sleep(everyMs);
    }
  }

  async poweroff(timeoutMs = 3 * MINUTE): Promise<void> {
    const proc = this.proc;
    if (this.ended || !proc) return;
    await pressPowerButton(join(this.dir, 'qmp.sock'));
    const off = await Promise.race([this.loopDone!.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!off) {
      this.stopping = true;
      this.killQemu();
      await this.loopDone;
      throw new Error(`${this.name}: did not power off within ${Math.round(timeoutMs / 1000)} s (killed)\n${this.tail()}`);
    }
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.killQemu();
      await this.loopDone;
      this.savedLog = this.log();
      await this.net.removeTap(this.tap);
      removeTempDir(this.dir);
      this.net.pis.delete(this.stopHook);
      this.unregister();
    })();
    return this.stopped;
  }

  readonly stopHook = () => this.stop();

  private serialFile(n: number): string {
    return join(this.dir, `serial-${n}.log`);
  }

  /** Boot, and boot again after each guest reboot, until stopped, powered off or failed. */
  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.bootCount >= MAX_BOOTS) {
        this.ended = `stopped after ${MAX_BOOTS} boots (a boot loop?)`;
        return;
      }
      const firmware = await this.loadFirmware();
      if (this.stopping) break;
      this.bootCount++;
      const exit = await this.runQemu(firmware);
      if (this.stopping) break;
      if (exit.code !== 0) {
        this.ended = `QEMU exited with ${exit.code ?? exit.signal}: ${this.qemuStderr.trim().slice(-1000)}`;
        return;
      }
      const serial = existsSync(this.serialFile(this.bootCount)) ? readFileSync(this.serialFile(this.bootCount), 'latin1') : '';
      if (/reboot: Power down/.test(serial)) {
        this.ended = 'powered off';
        return;
      }
      // anything else that ends QEMU with 0 under -no-reboot is a reset: boot again
    }
    this.ended ??= 'stopped';
  }

  /** What the Pi firmware does before the kernel runs: read config.txt and cmdline.txt, load files. */
  private async loadFirmware(): Promise<{ kernel: string; initrd?: string; cmdline: string }> {
    const config = firmwareConfig(await readBootFile(this.image, 'config.txt'));
    const cmdline = (await readBootFile(this.image, 'cmdline.txt')).split('\n')[0]!.trim();
    const kernel = join(this.dir, 'kernel');
    await copyBootFileOut(this.image, config.kernel, kernel);
    let initrd: string | undefined;
    if (config.initramfs) {
      initrd = join(this.dir, 'initramfs');
      await copyBootFileOut(this.image, config.initramfs, initrd);
    }
    return { kernel, initrd, cmdline };
  }

  private runQemu(fw: { kernel: string; initrd?: string; cmdline: string }): Promise<Exit> {
    const args = [
      '-name', `pi-${this.name}`, '-nodefaults', '-no-user-config', '-machine', 'pc',
      // one TCG thread for both vCPUs: with a thread per vCPU (thread=multi) a trixie guest's
      // kernel patching its own code (int3, text_poke) raced the other vCPU and oopsed
      // ("Oops: int3" in __alloc_pages, seen once in CI); two vCPUs still, as Slurm counts them
      '-accel', 'tcg,thread=single', '-smp', '2', '-m', '1024', '-display', 'none', '-no-reboot',
      '-chardev', `file,id=serial0,path=${this.serialFile(this.bootCount)}`, '-serial', 'chardev:serial0',
      '-qmp', `unix:${join(this.dir, 'qmp.sock')},server=on,wait=off`,
      '-kernel', fw.kernel, ...(fw.initrd ? ['-initrd', fw.initrd] : []), '-append', fw.cmdline,
      '-drive', `file=${this.image},if=none,id=disk0,format=raw`, '-device', 'virtio-blk-pci,drive=disk0,addr=4',
      '-netdev', `tap,id=net0,ifname=${this.tap},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=net0,mac=${this.mac},addr=3`,
      '-device', 'virtio-rng-pci,addr=5',
    ];
    // setpriv --pdeathsig: QEMU dies with this test process; ip netns exec execs it (same pid)
    const proc = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', this.net.netns, 'qemu-system-x86_64', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    proc.stderr?.on('data', (d: Buffer) => (this.qemuStderr = (this.qemuStderr + d.toString()).slice(-8192)));
    return new Promise((resolve) => {
      proc.once('error', (err) => {
        this.qemuStderr += String(err);
        resolve({ code: 127, signal: null });
      });
      proc.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }
}

/** The ACPI power button through QEMU's QMP socket (capabilities first, as QMP requires). */
function pressPowerButton(socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    let answers = 0;
    let buffered = '';
    const timer = setTimeout(() => finish(new Error('QMP did not answer')), 10_000);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.on('data', (d) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"QMP"')) sock.write('{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n');
        else if (line.includes('"return"') && ++answers === 2) finish();
        else if (line.includes('"error"')) finish(new Error(`QMP: ${line}`));
      }
    });
    sock.on('error', (err) => finish(err));
  });
}

let piCounter = 0;

/**
 * Boot `image` (a copy from baseImage, changed as the test likes) as a Pi on `net`, like the
 * firmware; it boots again after every guest reboot until stopped. The Pi is stopped with
 * `stop()` or by `net.stop()`.
 */
export async function bootPi(net: PiNet, image: string, opts: { name?: string; mac?: string } = {}): Promise<BootedPi> {
  if (!(net instanceof Net)) throw new Error('bootPi: net must come from startPiNet');
  const name = opts.name ?? `pi${++piCounter}`;
  const dir = await makeTempDir(`boot-${name}`);
  let tap: { tap: string; mac: string };
  try {
    tap = await net.addTap();
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
  const pi = new Pi(net, image, dir, tap.tap, name, opts.mac ?? tap.mac);
  net.pis.add(pi.stopHook);
  pi.start();
  return pi;
}
