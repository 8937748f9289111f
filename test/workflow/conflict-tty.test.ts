import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { describeE2e } from '../support/prereq.js';
import { editFile, labDirFrom, removeDir, snapshotTree } from '../support/tree.js';
import { assertBuilt, BIN, labgen } from './support.js';

/**
 * The per-file conflict question on a real terminal: the built CLI runs inside tmux (a private
 * server per test on its own socket in a temp folder, a fixed 160x50 window, killed afterwards), keys are sent to it and the screen
 * is read back. The arrow keys move from the default answer, "keep": Up is overwrite, Down show
 * diff, Down Down abort.
 */

const servers: string[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    try {
      execFileSync('tmux', ['-S', s, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone: the session ended with the command
    }
  }
  dirs.splice(0).forEach(removeDir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `labgen generate` in a fresh tmux server: send keys, read the screen, wait for the exit code. */
function terminal(labFile: string) {
  const box = mkdtempSync(join(tmpdir(), 'labgen-tty-'));
  dirs.push(box);
  const server = join(box, 'tmux.sock'); // removed with the temp folder
  servers.push(server);
  const exitFile = join(box, 'exit-code');
  const shell = `'${process.execPath}' '${BIN}' generate --lab '${labFile}'; echo $? > '${exitFile}'; sleep 600`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', server, ...args], { encoding: 'utf8' });
  tmux('-f', '/dev/null', 'new-session', '-d', '-x', '160', '-y', '50', 'sh', '-c', shell);
  tmux('set-option', '-g', 'history-limit', '5000');
  const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-2000');
  return {
    screen,
    keys: (...keys: string[]) => tmux('send-keys', ...keys),
    async waitFor(re: RegExp, what = String(re)): Promise<string> {
      for (let i = 0; i < 150; i++) {
        const s = screen();
        if (re.test(s)) return s;
        await sleep(100);
      }
      throw new Error(`timed out waiting for ${what}; the screen:\n${screen()}`);
    },
    async exitCode(): Promise<number> {
      for (let i = 0; i < 150; i++) {
        if (existsSync(exitFile)) {
          const text = readFileSync(exitFile, 'utf8').trim();
          if (text) return Number(text);
        }
        await sleep(100);
      }
      throw new Error(`labgen did not finish; the screen:\n${screen()}`);
    },
  };
}

const PROMPT = /\? laptop\/ssh_config \(edited by hand\)/;

/** A generated lab with a hand edit in laptop/ssh_config and a lab.yaml change that touches it. */
function labWithConflict() {
  const dir = labDirFrom('rpi-slurm');
  dirs.push(dir);
  const file = join(dir, 'lab.yaml');
  expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
  editFile(dir, 'laptop/ssh_config', (s) => `${s}\nHost jump\n  HostName 10.0.0.99\n`);
  editFile(dir, 'lab.yaml', (s) => s.replace('{ name: node03, ip: 10.0.0.4,', '{ name: node03, ip: 10.0.0.7,'));
  return { dir, file, edited: readFileSync(join(dir, 'laptop/ssh_config'), 'utf8') };
}

describeE2e('the conflict prompt on a terminal (tmux)', { commands: ['tmux'] }, () => {
  it('keep: the edit stays, .labgen/keep has the path, and a second generate does not ask', async () => {
    assertBuilt();
    const { dir, file, edited } = labWithConflict();
    const t = terminal(file);
    const s = await t.waitFor(PROMPT);
    expect(s).toMatch(/❯ keep/); // the default
    expect(s).toMatch(/overwrite\n.*keep\n.*show diff\n.*abort/);
    t.keys('Enter');
    expect(await t.exitCode()).toBe(EXIT.ok);
    expect(t.screen()).toMatch(/kept\s+laptop\/ssh_config\s+\(edited by hand\)/);
    expect(t.screen()).toMatch(/^next: labgen push node01 node02 node03 node04 node05;/m);
    expect(readFileSync(join(dir, 'laptop/ssh_config'), 'utf8')).toBe(edited);
    expect(readFileSync(join(dir, '.labgen/keep'), 'utf8')).toBe('laptop/ssh_config\n');
    expect(readFileSync(join(dir, 'laptop/hosts'), 'utf8')).toContain('10.0.0.7');

    // again on a terminal, after another change to the same file: no question
    editFile(dir, 'lab.yaml', (s2) => s2.replace('{ name: node03, ip: 10.0.0.7,', '{ name: node03, ip: 10.0.0.8,'));
    const again = terminal(file);
    expect(await again.exitCode()).toBe(EXIT.ok);
    expect(again.screen()).not.toMatch(PROMPT);
    // labgen's version moved on since the keep: reported as stale, and --check says so
    expect(again.screen()).toMatch(/kept\s+laptop\/ssh_config\s+\(edited by hand; stale/);
    expect(readFileSync(join(dir, 'laptop/ssh_config'), 'utf8')).toBe(edited);
    expect(labgen(['generate', '--lab', file, '--check']).code).toBe(EXIT.failure);
  });

  it('show diff, then overwrite: the diff is shown, the question comes back, the file is replaced', async () => {
    assertBuilt();
    const { dir, file } = labWithConflict();
    const t = terminal(file);
    await t.waitFor(PROMPT);
    t.keys('Down', 'Enter');
    await t.waitFor(/--- a\/laptop\/ssh_config[\s\S]*-Host jump[\s\S]*\? laptop\/ssh_config/, 'the diff, then the question again');
    t.keys('Up', 'Enter');
    expect(await t.exitCode()).toBe(EXIT.ok);
    const after = readFileSync(join(dir, 'laptop/ssh_config'), 'utf8');
    expect(after).not.toContain('Host jump');
    expect(after).toContain('HostName 10.0.0.7');
    expect(existsSync(join(dir, '.labgen/keep'))).toBe(false);
    expect(labgen(['generate', '--lab', file, '--check']).code).toBe(EXIT.ok);
  });

  it('abort: nothing is written, exit 3', async () => {
    assertBuilt();
    const { dir, file } = labWithConflict();
    const before = snapshotTree(dir, true);
    const t = terminal(file);
    await t.waitFor(PROMPT);
    t.keys('Down', 'Down', 'Enter');
    expect(await t.exitCode()).toBe(EXIT.conflict);
    expect(t.screen()).toMatch(/aborted: nothing was written/);
    expect(snapshotTree(dir, true)).toEqual(before);
  });
});
