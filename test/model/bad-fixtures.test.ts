import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Every file in test/fixtures/bad/ is a small realistic mistake in a lab.yaml. Its first lines
 * say what the error output must contain (`# expect: <text>`). Each one is run through the
 * built CLI exactly as a user would (`labgen generate --lab <dir>/lab.yaml`): it must exit 2,
 * name every problem with its lab.yaml path, print no stack, and write nothing at all.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(ROOT, 'test/fixtures/bad');
const CLI = join(ROOT, 'dist/generator/cli/main.js');

interface Fixture {
  file: string;
  text: string;
  expects: string[];
}

const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    const expects = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!);
    return { file, text, expects };
  });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI and resolves with its exit code and output whether it succeeds or not. */
function runCli(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, stdout, stderr });
    });
  });
}

// a line of a JavaScript stack trace: "    at fn (file.js:1:2)" or "    at file.js:1:2"
const STACK_LINE = /^\s+at .*:\d+:\d+\)?$/m;

beforeAll(() => {
  // `npm test` builds dist/ first (pretest); when vitest is run on its own, build it once here
  if (!existsSync(CLI)) execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT], { cwd: ROOT, stdio: 'inherit' });
}, 120_000);

describe('the bad fixtures themselves', () => {
  it('there are at least 40 of them', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('%s is named NN-description.yaml and starts with "# expect:"', (_, f) => {
    expect(f.file).toMatch(/^\d{2}-[a-z0-9]+(-[a-z0-9]+)*\.yaml$/);
    expect(f.text.startsWith('# expect: ')).toBe(true);
    expect(f.expects.length).toBeGreaterThan(0);
  });

  it('fixture numbers are unique', () => {
    const numbers = fixtures.map((f) => f.file.slice(0, 2));
    expect(new Set(numbers).size).toBe(numbers.length);
  });
});

describe.concurrent('labgen generate rejects each bad lab.yaml', () => {
  for (const f of fixtures) {
    it(f.file, async ({ expect }) => {
      const dir = mkdtempSync(join(tmpdir(), 'labgen-bad-'));
      try {
        const lab = join(dir, 'lab.yaml');
        copyFileSync(join(FIXTURES, f.file), lab);

        const run = await runCli(['generate', '--lab', lab], dir);

        expect(run.code, `exit code; stderr:\n${run.stderr}`).toBe(2);
        for (const text of f.expects) expect(run.stderr, 'every "# expect:" text is in stderr').toContain(text);
        expect(run.stderr).not.toMatch(STACK_LINE);
        expect(run.stderr).not.toContain('unexpected error');
        // nothing written: no generated files, no .labgen/, and lab.yaml itself untouched
        expect(readdirSync(dir)).toEqual(['lab.yaml']);
        expect(readFileSync(lab, 'utf8')).toBe(f.text);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
