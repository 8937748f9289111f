import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

/** The built CLI, run as a user runs it, and temp folders for the labs init writes. */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/bin/labgen.js');
export const SEED_LAB = join(ROOT, 'labs/rpi-slurm/lab.yaml');
export const FIXTURES = join(ROOT, 'test/wizard/fixtures');

/** `npm test` builds dist/ first (pretest); when vitest runs on its own, build the bundle once. */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    // tsc emits even when it reports a type error elsewhere; the bundle below is what is run
  }
  execFileSync(process.execPath, [join(ROOT, 'esbuild.config.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without a terminal (stdin a pipe) and resolves with its exit code and output. */
export function runCli(args: string[], cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, stdout, stderr });
    });
    child.stdin?.end();
  });
}

const made: string[] = [];
/** A fresh temp folder (removed by cleanupTemp). */
export function tempDir(prefix = 'labgen-init-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function cleanupTemp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const loadYaml = (file: string): unknown => yaml.load(readFileSync(file, 'utf8'));

/** The `$schema=` reference of lab.yaml's first line. */
export function schemaLine(text: string): string | undefined {
  return /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
}
