import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * The project stands on its own: no file of it names a path outside the repository (a folder
 * beside the clone, a path of one machine). A user has only the clone, so a link, a comment, an
 * error message or a test that reads such a path points at nothing. The patterns are written so
 * that this file does not match them itself.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const OUTSIDE: { re: RegExp; what: string }[] = [
  { re: /\.\.\/shared\b/, what: 'a folder beside the clone' },
  { re: /\/work\//, what: "a path of the machine labgen was written on" },
  { re: /\bshared\/(crds|DESIG[N]|TEST[B]ED)\b/, what: 'a shared folder outside the repository' },
  { re: /\bTEST[B]ED\b/, what: 'a test bed document outside the repository' },
  { re: /\bDESIGN\.md\b/, what: 'a design document outside the repository' },
];

/** Files git tracks, and new files it would track (not ignored): what a clone will hold. */
function projectFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return [...new Set(out.split('\0').filter(Boolean))].filter((f) => existsSync(join(ROOT, f))).sort();
}

it('no file of the project names a path outside the repository', () => {
  const files = projectFiles();
  expect(files).toContain('package.json');
  const found: string[] = [];
  for (const file of files) {
    const bytes = readFileSync(join(ROOT, file));
    if (bytes.includes(0)) continue; // binary
    bytes
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        const hit = OUTSIDE.find(({ re }) => re.test(line));
        if (hit) found.push(`${file}:${i + 1}: ${hit.what}: ${line.trim().slice(0, 120)}`);
      });
  }
  expect(found, 'say it in the repository instead (e.g. "the Debian packages .ci/run installs", docs/, test/fixtures/)').toEqual([]);
});
