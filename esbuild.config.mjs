// Packs tsc's output (dist/generator, dist/drivers) into a few files for the `labgen` binary: Node 20
// loads one bundle in about half the time it takes to resolve and load ~150 small ES modules
// (bench/generate.mjs measures both). Commands stay separate chunks, loaded when run.
//
// Every package labgen uses is bundled: the published package has no `dependencies`, so a first
// `npx labgen` downloads one tarball and installs nothing else (bench/npx.mjs measures it;
// test/package/package.test.ts checks the bundle's imports against package.json).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * zod re-exports every one of its ~40 locales as `z.locales` (300 KB, half of zod in the bundle),
 * which keeps them all in: parsing them costs every command start-up time. labgen's messages are
 * its own and zod's English default is imported by zod directly (classic/schemas.js), so the
 * namespace is replaced by an empty one. Code that needs `z.locales` must drop this plugin.
 */
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (a) =>
      a.importer.includes('/node_modules/zod/') ? { path: 'zod-locales', namespace: 'empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};' }));
  },
};

/**
 * ssh2 without its two optional native parts: its crypto binding
 * (`./crypto/build/Release/sshcrypto.node`) and cpu-features, both compiled by install scripts
 * (node-gyp and a C++ compiler: some 10 s of a cold `npx labgen` when ssh2 was a dependency).
 * ssh2 requires both inside try/catch and without them uses Node's own crypto (AES-GCM first,
 * then AES-CTR, ChaCha20-Poly1305 last). Each resolves to a module that throws, so the bundle
 * never loads native code, wherever it runs.
 */
const ssh2WithoutNative = {
  name: 'ssh2-without-native',
  setup(b) {
    b.onResolve({ filter: /^cpu-features$|\.node$/ }, (a) =>
      a.importer.includes('/node_modules/ssh2/') ? { path: a.path, namespace: 'native-absent' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'native-absent' }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`${a.path}: not in the labgen bundle (ssh2 uses Node's crypto)`)});`,
      loader: 'js',
    }));
  },
};

/**
 * Packages labgen's own code loads only when needed, with `createRequire(import.meta.url)('x')`
 * (bcryptjs for the registry's htpasswd line, ssh2 for keys): found in tsc's output.
 */
const LAZY_CALL = /\bcreateRequire\(import\.meta\.url\)\((['"])([^'"./][^'"]*)\1\)/g;
const lazyPackages = [
  ...new Set(
    ['dist/generator', 'dist/drivers'].flatMap((dir) =>
      readdirSync(dir, { recursive: true })
        .filter((f) => f.endsWith('.js'))
        .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(LAZY_CALL)].map((m) => m[2])),
    ),
  ),
].sort();

/**
 * Each lazy package is bundled on its own, as `dist/bin/<name>.cjs`, and the main bundle loads
 * it from there with require() when the code asks for it: in the chunk that needs it, ssh2
 * (~450 KB) would be parsed by every `labgen generate`, +25 ms of start-up. In labgen's files the
 * `createRequire(import.meta.url)('x')` call (which esbuild does not follow) becomes
 * `require('x')`, and every import or require of `x` (node-ssh's of ssh2 too) resolves to
 * `./x.cjs`, left external: loaded from beside the chunk, at run time.
 */
const lazyAsOwnFile = {
  name: 'lazy-as-own-file',
  setup(b) {
    b.onLoad({ filter: /\/dist\/(generator|drivers)\/.*\.js$/ }, (a) => {
      const source = readFileSync(a.path, 'utf8');
      const contents = source.replace(LAZY_CALL, (_, q, name) => `require(${q}${name}${q})`);
      return contents === source ? undefined : { contents, loader: 'js' };
    });
    const names = new RegExp(`^(${lazyPackages.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter: names }, (a) => ({ path: `./${a.path.replace('/', '+')}.cjs`, external: true }));
  },
};

rmSync('dist/bin', { recursive: true, force: true }); // chunk names change with content: no stale ones

const common = { bundle: true, platform: 'node', target: 'node20', minifyWhitespace: true, minifySyntax: true, logLevel: 'warning' };

await build({
  ...common,
  entryPoints: { labgen: 'dist/generator/cli/main.js' },
  outdir: 'dist/bin',
  splitting: true,
  format: 'esm',
  // CommonJS dependencies (ejs) call require(); ESM has none of its own
  banner: { js: "import { createRequire as __labgenRequire } from 'node:module'; const require = __labgenRequire(import.meta.url);" },
  plugins: [zodWithoutLocales, lazyAsOwnFile],
});

const resolve = createRequire(import.meta.url).resolve;
for (const name of lazyPackages) {
  await build({
    ...common,
    entryPoints: [resolve(name)],
    outfile: `dist/bin/${name.replace('/', '+')}.cjs`,
    format: 'cjs',
    plugins: [ssh2WithoutNative],
  });
}
