import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { REPO_ROOT } from '../support/generated.js';
import { removeDir } from '../support/tree.js';

/**
 * The README's "Set up and run" commands, run as written on a fresh clone: the first line of its
 * `sh` block sets labgen up and runs `labgen init mylab` (with `--yes` added: no one answers the
 * wizard here), the second is `npm test`. The lines are read out of README.md, so the README and
 * this test cannot drift apart.
 *
 * The clone is a real `git clone`, of a temp repository made from the working tree as it is
 * (every file git tracks or would track: `git ls-files --cached --others --exclude-standard`),
 * so the test checks the code being worked on, before and after it is committed, and that
 * nothing the set-up needs is git-ignored or missing from the repository.
 *
 * `npm link` installs into npm's global prefix: for the run, npm_config_prefix points it at a
 * temp folder and that folder's bin/ goes first on PATH, so the machine's own global packages
 * are never touched. `npm ci` uses the machine's npm cache (the registry where it lacks one).
 */

const SECTION = '## Set up and run';

/** The commands of the first ```sh block in the README's "Set up and run" section, comments cut. */
function readmeCommands(): { setup: string; test: string; section: string } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const rest = readme.slice(start + SECTION.length + 2);
  const section = rest.slice(0, rest.search(/^## /m) >>> 0);
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(section);
  if (!block) throw new Error(`README.md "${SECTION}" has no \`\`\`sh block`);
  const lines = block[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '');
  return { setup: lines[0] ?? '', test: lines[1] ?? '', section };
}

/**
 * The working tree as a temp git repository, one commit; `git clone` of it into `dest`. Files
 * under `skip/` that git does not track are left out: a lab made by following the README in this
 * repository is the developer's, not part of the clone.
 */
function cloneWorkingTree(dest: string, scratch: string, skip: string): void {
  const src = join(scratch, 'src');
  mkdirSync(src);
  const ls = (...args: string[]) => git(['ls-files', '-z', ...args], REPO_ROOT).stdout.split('\0').filter(Boolean);
  const listed = [...ls('--cached'), ...ls('--others', '--exclude-standard').filter((f) => !f.startsWith(`${skip}/`))];
  for (const f of new Set(listed)) {
    const from = join(REPO_ROOT, f);
    if (!existsSync(from) && !isSymlink(from)) continue; // deleted in the working tree, not yet in the index
    mkdirSync(dirname(join(src, f)), { recursive: true });
    cpSync(from, join(src, f), { verbatimSymlinks: true, preserveTimestamps: true });
  }
  git(['init', '-q', '-b', 'main'], src);
  git(['add', '-A'], src);
  git(['-c', 'user.name=labgen test', '-c', 'user.email=test@labgen.invalid', 'commit', '-q', '--no-verify', '-m', 'working tree'], src);
  git(['clone', '-q', src, dest], scratch);
}

const isSymlink = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

function git(args: string[], cwd: string) {
  const r = run('git', args, cwd, process.env);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let scratch: string;
let clone: string;
let prefix: string;
let env: NodeJS.ProcessEnv;
let commands: ReturnType<typeof readmeCommands>;
let setup: { code: number; stdout: string; stderr: string };
let labDir: string;

beforeAll(() => {
  commands = readmeCommands();
  scratch = mkdtempSync(join(tmpdir(), 'labgen-readme-'));
  clone = join(scratch, 'clone');
  prefix = join(scratch, 'npm-global');
  mkdirSync(prefix);
  // a user's shell: npm's global bin on PATH (here a temp prefix), no CI-only settings
  env = {
    ...process.env,
    npm_config_prefix: prefix,
    PATH: [join(prefix, 'bin'), process.env.PATH ?? ''].join(delimiter),
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  for (const k of Object.keys(env)) if (/^(npm_(lifecycle|package|command)|npm_config_(local_prefix|global)$)|^INIT_CWD$/.test(k)) delete env[k]; // not inside `npm test`'s npm
  const init = /(?:^|&&\s*)labgen init (\S+)$/.exec(commands.setup);
  labDir = join(clone, init?.[1] ?? 'mylab');
  cloneWorkingTree(clone, scratch, init?.[1] ?? 'mylab');
  if (init) setup = run('sh', ['-c', `${commands.setup} --yes`], clone, env);
}, 600_000);
afterAll(() => {
  if (scratch) removeDir(scratch);
});

describe('README "Set up and run", on a fresh clone', () => {
  it('the first command is one line that sets labgen up and ends in `labgen init DIR`; the second is `npm test`; the published form is documented', () => {
    expect(commands.setup).toMatch(/^npm ci\b.*&& labgen init \S+$/);
    expect(commands.test).toBe('npm test');
    // for later: the command that works once the package is on the registry, marked as such
    expect(commands.section).toMatch(/`npx labgen init mylab`/);
    expect(commands.section).toMatch(/published/);
  });

  it('run as written (with --yes), it installs, builds, puts labgen on PATH and writes the lab folder', () => {
    expect(setup, 'the set-up line does not end in labgen init DIR').toBeDefined();
    expect(setup.code, `${commands.setup} --yes\n${setup.stdout}\n${setup.stderr}`).toBe(EXIT.ok);
    expect(existsSync(join(labDir, 'lab.yaml'))).toBe(true);
    expect(existsSync(join(labDir, 'README.md'))).toBe(true);
    // the labgen on PATH is this clone's build (linked into the temp prefix, not anything global)
    const which = run('sh', ['-c', 'command -v labgen'], clone, env);
    expect(which.stdout.trim()).toBe(join(prefix, 'bin', 'labgen'));
    expect(realpathSync(which.stdout.trim())).toBe(realpathSync(join(clone, 'dist/bin/labgen.js')));
  });

  it('in the lab folder, `labgen generate --check` (from PATH) says up to date', () => {
    const check = run('labgen', ['generate', '--check'], labDir, env);
    expect(check.stdout, check.stderr).toMatch(/^up to date: /);
    expect(check.code).toBe(EXIT.ok);
  });

  it('`npm test` works in the clone (here on one test file: the whole suite would run this test again)', () => {
    // pretest builds and type-checks every test, then vitest runs; CI unset: nothing is skipped or demanded for want of root
    const { CI: _ci, ...userEnv } = env;
    const r = run('sh', ['-c', `${commands.test} -- test/model/rules.test.ts`], clone, userEnv);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/Test Files {2}1 passed \(1\)/);
  }, 300_000);
});
