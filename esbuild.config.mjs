// Packs tsc's output (dist/generator, dist/rpi) into a few files for the `labgen` binary: Node 20
// loads one bundle in about half the time it takes to resolve and load ~150 small ES modules
// (bench/generate.mjs measures both). Commands stay separate chunks, loaded when run.
import { rmSync } from 'node:fs';
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

rmSync('dist/bin', { recursive: true, force: true }); // chunk names change with content: no stale ones

await build({
  entryPoints: { labgen: 'dist/generator/cli/main.js' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  // ssh2 has optional native parts; it is loaded from node_modules as installed
  external: ['ssh2'],
  // CommonJS dependencies (ejs) call require(); ESM has none of its own
  banner: { js: "import { createRequire as __labgenRequire } from 'node:module'; const require = __labgenRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [zodWithoutLocales],
});
