import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { REPO_ROOT } from '../support/generated.js';
import { removeDir } from '../support/tree.js';
import { assertBuilt } from '../workflow/support.js';

/**
 * What `npm pack` ships, and that it works once installed: the tarball is run with npx from an
 * empty folder, which installs it and its dependencies from the npm registry (a warm npm cache
 * makes that a second or two; a cold one some 20 s).
 *
 * The tarball is packed with --ignore-scripts from the dist/ that `npm test` has just built
 * (pretest): prepack would rebuild dist/bin while other test files run the binary. prepack is
 * checked to be the build, so a real `npm pack`/`npm publish` ships a fresh build.
 */

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
};

let work: string;
let tarball: string;
let packed: { path: string }[];

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `npx --yes ./labgen-X.tgz ARGS` in the temp folder. --prefix pins npm's project folder to it:
 * without it npm looks upward for a package.json (a stray /tmp/package.json would do) and
 * resolves ./labgen-X.tgz from there.
 */
const npx = (...args: string[]) => run('npx', ['--yes', '--prefix', work, `./labgen-${pkg.version}.tgz`, ...args], work);

beforeAll(() => {
  assertBuilt();
  work = mkdtempSync(join(tmpdir(), 'labgen-pack-'));
  const r = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], REPO_ROOT);
  expect(r.code, r.stderr).toBe(0);
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info!.filename);
  packed = info!.files;
}, 60_000);
afterAll(() => removeDir(work));

describe('npm pack', () => {
  it('ships the bundle, the templates, example labs, the schema, README and package.json: nothing else', () => {
    const paths = packed.map((f) => f.path).sort();
    expect(tarball).toMatch(/labgen-\d+\.\d+\.\d+\.tgz$/);
    for (const p of paths) expect([p, /^(dist\/bin\/[^/]+\.c?js|templates\/.+\.ejs|labs\/[^/]+\/lab\.yaml|schema\/lab\.schema\.json|README\.md|package\.json)$/.test(p)]).toEqual([p, true]);
    expect(paths).toEqual(expect.arrayContaining([pkg.bin.labgen!, 'labs/rpi-slurm/lab.yaml', 'schema/lab.schema.json', 'package.json', 'README.md']));
    // no sources, tests, fixtures, tsc output or maps
    expect(paths.filter((p) => /(^|\/)(test|generator|drivers|rpi|bench|tmp)\/|\.ts$|\.map$|^dist\/(generator|drivers)/.test(p))).toEqual([]);
    // every template the plan reads (EJS) is there
    const templates = (readdirSync(join(REPO_ROOT, 'templates'), { recursive: true }) as string[]).filter((p) => p.endsWith('.ejs')).map((p) => `templates/${p}`);
    expect(paths).toEqual(expect.arrayContaining(templates));
  });

  it('a real pack builds first (prepack), and `dependencies` is exactly what the bundle loads at run time', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
    // every module the shipped bundle still imports or requires (esbuild bundled the rest):
    // `from "x"`, `import("x")`, `require("x")` (esbuild's `__require`) and `createRequire(import.meta.url)("x")`
    const shipped = packed.filter((f) => f.path.startsWith('dist/bin/'));
    const bundle = shipped.map((f) => readFileSync(join(REPO_ROOT, f.path), 'utf8')).join('\n');
    // (a specifier has no spaces or brackets: text in a string such as `from "(...)"` is not one)
    const spec = String.raw`["'\`]([\w@.:/+-]+)["'\`]`;
    const loaded = [...bundle.matchAll(new RegExp(String.raw`(?:require|\bimport|\bcreateRequire\([^()]*\))\(\s*${spec}\s*\)|\bfrom\s*${spec}`, 'g'))].map((m) => m[1] ?? m[2]!);
    expect(loaded).toContain('node:fs'); // the scan sees the bundle's imports
    const external = [...new Set(loaded.filter((m) => !m.startsWith('.') && !m.startsWith('node:') && !isBuiltin(m)).map(packageName))].sort();
    // nothing more (a bundled package listed there is downloaded by every npx for nothing), nothing less
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(external);
    // what is a dependency is not bundled as well
    for (const m of external) expect([m, bundle.includes(`node_modules/${m}/`)]).toEqual([m, false]);
    // every file of its own the bundle loads (chunks, the packages loaded when needed: ssh2.cjs, bcryptjs.cjs) is shipped
    const own = [...new Set(loaded.filter((m) => m.startsWith('./')).map((m) => `dist/bin/${m.slice(2)}`))];
    // each package labgen's code loads only when needed (`createRequire(import.meta.url)('x')`) is one of them, as x.cjs
    const lazy = ['dist/generator', 'dist/drivers'].flatMap((dir) =>
      (readdirSync(join(REPO_ROOT, dir), { recursive: true }) as string[])
        .filter((f) => f.endsWith('.js'))
        .flatMap((f) => [...readFileSync(join(REPO_ROOT, dir, f), 'utf8').matchAll(/\bcreateRequire\(import\.meta\.url\)\((['"])([^'"./][^'"]*)\1\)/g)].map((m) => m[2]!)),
    );
    expect(lazy.length).toBeGreaterThan(0);
    expect(own).toEqual(expect.arrayContaining(lazy.map((m) => `dist/bin/${m.replace('/', '+')}.cjs`)));
    for (const f of own) expect([f, shipped.some((s) => s.path === f)]).toEqual([f, true]);
  });
});

describe('the installed package (npx from the tarball, in an empty folder)', () => {
  it('labgen --version prints the package version', () => {
    const r = npx('--version');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  }, 90_000);

  it('labgen --help lists every command, each with an example; each command has its own help with an example', () => {
    const r = npx('--help');
    expect(r.code, r.stderr).toBe(0);
    const commands = [...r.stdout.split('Commands:')[1]!.split(/\n\s*\n/)[0]!.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['generate', 'init', 'export']));
    const examples = r.stdout.split('Examples:')[1] ?? '';
    for (const c of commands) {
      expect([c, new RegExp(`labgen ${c}\\b`).test(examples)]).toEqual([c, true]);
      const own = npx(c, '--help');
      expect(own.code).toBe(0);
      expect([c, /Examples?:\n\s+(npx )?labgen /.test(own.stdout)]).toEqual([c, true]);
    }
  }, 90_000);

  it('init DIR --yes writes a lab folder that generate --check calls up to date', () => {
    const r = npx('init', 'mylab', '--yes');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(EXIT.ok);
    const check = npx('generate', '--check', '--lab', 'mylab/lab.yaml');
    expect(check.stdout).toMatch(/^up to date: /);
    expect(check.code).toBe(EXIT.ok);
  }, 90_000);

  it('generate on a copy of labs/rpi-slurm/lab.yaml, then --check: up to date', () => {
    mkdirSync(join(work, 'seed'));
    copyFileSync(join(REPO_ROOT, 'labs/rpi-slurm/lab.yaml'), join(work, 'seed/lab.yaml'));
    const gen = npx('generate', '--lab', 'seed/lab.yaml');
    expect(gen.code, gen.stderr).toBe(EXIT.ok);
    expect(gen.stdout).toMatch(/^wrote \d+, removed 0: /m);
    const check = npx('generate', '--check', '--lab', 'seed/lab.yaml');
    expect(check.code).toBe(EXIT.ok);
  }, 90_000);
});

const isBuiltin = (m: string) => builtinModules.includes(m.split('/')[0]!);
/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name` */
const packageName = (m: string) => m.split('/').slice(0, m.startsWith('@') ? 2 : 1).join('/');
