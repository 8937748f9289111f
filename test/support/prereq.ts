/**
 * The rule for end-to-end tests that need root and Debian packages
 * (the packages `.ci/run` installs):
 *
 * - prerequisites present          → the suite runs;
 * - missing and CI=true            → the suite FAILS, naming what is missing
 *                                    (CI must never go green by skipping);
 * - missing anywhere else          → the suite is skipped and one line is
 *                                    printed: `skip <name>: needs root, dhcpcd`.
 *
 * Usage:
 *   describeE2e('dhcpcd on a test host', { root: true, commands: ['ip', 'dhcpcd'] }, () => {
 *     it('…', async () => { … });
 *   });
 */
import { onPath } from '../../drivers/base/path.js';
import { describe, it } from 'vitest';

export interface Needs {
  /** the suite must run as uid 0 (network namespaces, mounts, daemons) */
  root?: boolean;
  /** executables that must be found on PATH, e.g. 'sshd', 'dhcpcd' */
  commands?: string[];
}

/** What is missing, as short human-readable items ([] when nothing is). */
export function missingPrereqs(needs: Needs): string[] {
  const missing: string[] = [];
  if (needs.root && process.getuid?.() !== 0) missing.push('root');
  for (const cmd of needs.commands ?? []) {
    if (!onPath(cmd)) missing.push(cmd);
  }
  return missing;
}

export { onPath } from '../../drivers/base/path.js';

/** `skip <name>: needs root, dhcpcd` — the one line printed when a suite is skipped. */
export function skipLine(name: string, missing: string[]): string {
  return `skip ${name}: needs ${missing.join(', ')}`;
}

/** CI is where a missing prerequisite is a failure, not a skip (exactly CI=true, as CI services set it). */
export function inCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * `describe` for an end-to-end suite with prerequisites: runs, fails (CI) or
 * skips with one printed line, following the rule above.
 */
export function describeE2e(name: string, needs: Needs, body: () => void): void {
  const missing = missingPrereqs(needs);
  if (missing.length === 0) {
    describe(name, body);
  } else if (inCi()) {
    // Do not run the body: it would fail with confusing errors (ENOENT, EPERM).
    // One failing test says exactly what the CI image lacks.
    describe(name, () => {
      it('has its prerequisites', () => {
        throw new Error(`${name}: needs ${missing.join(', ')} (CI=true: missing prerequisites fail instead of skipping)`);
      });
    });
  } else {
    // stderr write, not console.*: vitest would wrap console output in its own header lines.
    process.stderr.write(`${skipLine(name, missing)}\n`);
    describe.skip(`${name} (needs ${missing.join(', ')})`, body);
  }
}
