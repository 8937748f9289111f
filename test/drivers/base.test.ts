/**
 * drivers/base: the local Runner on real processes (exit code, stderr tail, stdin, lines), the
 * pool (its limit, a failure that stops nothing else), the one failure shape and its lines.
 */
import { describe, expect, it } from 'vitest';
import { CommandError, type Failure, failureLines, failureOf, tail } from '../../drivers/base/failure.js';
import { LocalRunner } from '../../drivers/base/local.js';
import { pool } from '../../drivers/base/pool.js';
import { PlainProgress } from '../../drivers/base/progress.js';
import type { Runner } from '../../drivers/base/runner.js';
import { ConnectError, HostKeyError } from '../../drivers/base/ssh.js';

describe('the local runner', () => {
  const local = new LocalRunner({ host: 'laptop' });

  it('runs sh with its exit code, stdout and stderr', async () => {
    expect(await local.exec('echo out; echo err >&2; exit 3')).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await local.exec('true')).code).toBe(0);
  });

  it('feeds stdin, byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 65]);
    const r = await local.exec('od -An -tx1 | tr -s " \\n" " "', { stdin: bytes });
    expect(r.stdout.trim()).toBe('00 01 02 ff 0a 41');
    // no stdin given: the command reads an empty one (it never waits for a terminal)
    expect((await local.exec('wc -c')).stdout.trim()).toBe('0');
  });

  it('a command that ignores a large stdin is not an error of the runner', async () => {
    expect((await local.exec('exit 0', { stdin: Buffer.alloc(4 << 20) })).code).toBe(0);
  });

  it('hands over stdout line by line, the last line too', async () => {
    const lines: string[] = [];
    await local.exec("printf 'a\\nb\\n'; sleep 0.05; printf 'c'", { onLine: (l) => lines.push(l) });
    expect(lines).toEqual(['a', 'b', 'c']);
  });

  it('run: stdout when it succeeds; else a CommandError with the host, step, command, code and the tail of stderr', async () => {
    expect(await local.run('greet', 'echo hi', 'echo hi')).toBe('hi\n');
    const noisy = 'for i in $(seq 1 20); do echo "line $i" >&2; done; exit 7';
    const e = await local.run('build', 'make image', noisy).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(CommandError);
    expect(e).toMatchObject({ host: 'laptop', step: 'build', command: 'make image', code: 7 });
    expect((e as CommandError).stderrTail).toBe(Array.from({ length: 8 }, (_, i) => `line ${i + 13}`).join('\n'));
    expect((e as CommandError).message).toMatch(/^build: `make image` exited 7: line 13\n/);
  });

  it('a signal is 128 + its number, as a shell reports it; close ends what still runs', async () => {
    expect((await local.exec('kill -TERM $$')).code).toBe(143);
    const r = new LocalRunner();
    expect(r.host).toBe('localhost');
    const running = r.exec('exec sleep 30');
    setTimeout(() => r.close(), 50);
    expect((await running).code).toBe(143);
  });

  it('a process that cannot start is 127 with the reason', async () => {
    const r = await new LocalRunner({ cwd: '/nonexistent-labgen-dir' }).exec('true');
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('takes env and cwd', async () => {
    const r = await new LocalRunner({ cwd: '/', env: { LABGEN_T: 'x y' } }).exec('printf "%s|%s" "$LABGEN_T" "$PWD"');
    expect(r.stdout).toBe('x y|/');
  });

  it('is a Runner: a step written against the interface runs on it', async () => {
    const step = (r: Runner) => r.run('count', 'wc -l', 'wc -l', { stdin: Buffer.from('1\n2\n3\n') });
    expect((await step(local)).trim()).toBe('3');
  });
});

describe('the pool', () => {
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('never runs more than the limit at once, starts in order, returns in input order', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const out = await pool([5, 1, 4, 2, 3, 0, 6], 3, async (n, i) => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a limit above the item count, or below 1, still runs every item', async () => {
    expect(await pool([1, 2], 100, async (n) => n)).toEqual([1, 2]);
    expect(await pool([1, 2], 0, async (n) => n)).toEqual([1, 2]);
    expect(await pool([], 4, async (n) => n)).toEqual([]);
  });

  it('one failure does not stop the others: onError fills its slot', async () => {
    const done: string[] = [];
    const out = await pool(
      ['a', 'bad', 'c', 'd'],
      2,
      async (s) => {
        await tick();
        if (s === 'bad') throw new Error('boom');
        done.push(s);
        return s.toUpperCase();
      },
      (e, s) => `${s}: ${(e as Error).message}`,
    );
    expect(out).toEqual(['A', 'bad: boom', 'C', 'D']);
    expect(done.sort()).toEqual(['a', 'c', 'd']);
  });

  it('without onError every item still runs, then the pool rejects with all the errors', async () => {
    const done: number[] = [];
    const e = await pool([1, 2, 3, 4], 1, async (n) => {
      await tick();
      if (n % 2 === 0) throw new Error(`no ${n}`);
      done.push(n);
      return n;
    }).then(() => undefined, (x: unknown) => x);
    expect(done).toEqual([1, 3]);
    expect(e).toBeInstanceOf(AggregateError);
    expect((e as AggregateError).errors.map((x: Error) => x.message)).toEqual(['no 2', 'no 4']);
  });
});

describe('the failure shape', () => {
  it('tail keeps the last lines, and at most so many characters', () => {
    expect(tail('\n a\nb\nc\n\n', 2)).toBe('b\nc');
    expect(tail('x'.repeat(3000))).toBe(`…${'x'.repeat(1500)}`);
  });

  it('any error becomes one Failure of its host', () => {
    expect(failureOf(new CommandError('pi1', 'upload', 'install 2 files', 1, 'E: disk full'), 'pi1', 'connect')).toEqual({
      host: 'pi1',
      step: 'upload',
      message: 'upload: `install 2 files` exited 1: E: disk full',
      command: 'install 2 files',
      code: 1,
      stderrTail: 'E: disk full',
    });
    expect(failureOf(new ConnectError('pi1', '10.0.0.2', new Error('ECONNREFUSED')), 'pi1', 'x')).toEqual({
      host: 'pi1',
      step: 'connect',
      message: 'cannot connect to pi1 at 10.0.0.2: ECONNREFUSED',
    });
    expect(failureOf(new HostKeyError('pi1', '10.0.0.2', { status: 'unknown' }, 'SHA256:abc'), 'pi1', 'x').step).toBe('host key');
    // a key pinned for another host: both named, whatever the address pins
    expect(new HostKeyError('pi1', 'raspberrypi.local', { status: 'changed', recorded: ['ssh-ed25519 SHA256:own'], pinnedFor: ['pi2'] }, 'SHA256:abc').message).toBe(
      'host key of pi1 (raspberrypi.local) is the one the lab pinned for pi2: it presented SHA256:abc; refused: that is another host, not pi1 (two Pis at one address? Pis flashed from one card?)',
    );
    expect(failureOf(new Error('plain'), 'pi1', 'cut-over')).toEqual({ host: 'pi1', step: 'cut-over', message: 'plain' });
    expect(failureOf('a string', 'pi1', 'read state')).toEqual({ host: 'pi1', step: 'read state', message: 'a string' });
  });

  it('prints the host (or where), the step, the command and its exit code, then the stderr tail indented', () => {
    const f: Failure = { host: 'pi2', step: 'setup.sh', message: 'x', command: 'bash setup.sh', code: 2, stderrTail: 'E: one\nE: two' };
    expect(failureLines(f)).toEqual(['pi2: failed at setup.sh: `bash setup.sh` exited 2', '    E: one', '    E: two']);
    expect(failureLines({ ...f, code: null, stderrTail: '' }, 'pi2 (10.0.0.3)')).toEqual(['pi2 (10.0.0.3): failed at setup.sh: `bash setup.sh` lost its connection']);
    expect(failureLines({ host: 'pi3', step: 'connect', message: 'cannot connect to pi3' })).toEqual(['pi3: failed at connect: cannot connect to pi3']);
    expect(new CommandError('pi2', 'upload', 'install 3 files', null, 'Connection lost').message).toBe('upload: `install 3 files` lost its connection: Connection lost');
  });
});

describe('per-host progress (plain)', () => {
  it('one line per event, a failure marked', async () => {
    const lines: string[] = [];
    const p = new PlainProgress((l) => lines.push(l));
    p.start('pi1', 'pushing');
    p.step('pi1', 'uploading 2 file(s)');
    p.done('pi1', 'failed', 'upload: `x` exited 1');
    await p.end();
    expect(lines).toEqual(['pi1: pushing', 'pi1: uploading 2 file(s)', 'pi1: FAILED upload: `x` exited 1']);
  });
});
