/**
 * What the tests of booted Pis (test/boot/) share: the built CLI run inside the Pis' LAN, ssh to
 * a Pi as the lab user with only the host key labgen pinned, and a wait that polls.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Timing } from '../../drivers/push/push.js';
import { REPO_ROOT } from '../support/generated.js';
import type { PiNet } from '../support/pi-boot/index.js';
import type { ExecResult } from '../support/test-hosts.js';

export const MINUTE = 60_000;
export const LABGEN = join(REPO_ROOT, 'dist/bin/labgen.js');

/** A command's result, for an assertion's message. */
export const text = (r: ExecResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The built CLI inside the LAN (where it reaches the Pis), on the lab at `labFile`. */
export function labgenIn(net: PiNet, labFile: string, ...args: string[]): Promise<ExecResult> {
  return net.run('node', [LABGEN, ...args, '--lab', labFile]);
}

/**
 * `labgen push NODE...` with other cut-over timeouts than the CLI's: pushCommand (tsc's build of
 * generator/cli/push.ts, what the CLI runs) called by a node inside the LAN. Its output is the
 * CLI's, its return the exit code.
 */
export function pushWithTiming(net: PiNet, labFile: string, nodes: string[], timing: Partial<Timing>): Promise<ExecResult> {
  const push = pathToFileURL(join(REPO_ROOT, 'dist/generator/cli/push.js')).href;
  const script = [
    `const { pushCommand } = await import(${JSON.stringify(push)});`,
    'const a = JSON.parse(process.argv[1]);',
    'process.exitCode = await pushCommand(a.nodes, { lab: a.lab, timing: a.timing });',
  ].join('\n');
  return net.run('node', ['--input-type=module', '-e', script, JSON.stringify({ nodes, lab: labFile, timing })]);
}

/** A command on the Pi at `ip` as the lab user, over an ssh that accepts only the host key labgen pinned. */
export function labSsh(net: PiNet, labDir: string, ip: string, command: string): Promise<ExecResult> {
  return net.run('ssh', [
    '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${join(labDir, '.labgen/known_hosts')}`, '-o', 'ConnectTimeout=30',
    '-i', join(labDir, '.labgen/secrets/id_ed25519'), `pi@${ip}`, command,
  ]);
}

/** Run `probe` every `everyMs` until `done` says so or `timeoutMs` passed; the last result either way. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (t: T) => boolean, timeoutMs: number, everyMs = 2000): Promise<T> {
  let last = await probe();
  for (const end = Date.now() + timeoutMs; !done(last) && Date.now() < end; ) {
    await sleep(everyMs);
    last = await probe();
  }
  return last;
}
