/**
 * What bench/push.mjs takes from the test support and the sources (TypeScript): bundled by
 * esbuild when the bench starts, with `vitest` replaced by vitest-shim.mjs (test/push/support.ts
 * imports vitest for vi.spyOn only, to keep generate's report off stdout).
 */
export { startHosts, type TestHost, type TestHostGroup } from '../../test/support/test-hosts.js';
export { authorize, installHostKey, labYaml, STANDINS, writeLab } from '../../test/push/support.js';
export { loadTargets } from '../../drivers/push/targets.js';
