import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, whether running from source (vitest) or from dist/ (the built CLI). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'templates'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('labgen: cannot find the package root (templates/ missing)');
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot();
export const TEMPLATES_DIR = join(PACKAGE_ROOT, 'templates');

const read = new Map<string, string>();

/**
 * A file of labgen's own package (a template, the shipped JSON schema), by its path in the
 * package, read once. These are part of the program, not lab input: the plan reads them through
 * here and stays a pure function of (lab, secrets) that never touches a file system of its own.
 */
export function packageFile(path: string): string {
  let text = read.get(path);
  if (text === undefined) read.set(path, (text = readFileSync(join(PACKAGE_ROOT, path), 'utf8')));
  return text;
}
