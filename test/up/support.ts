import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { generate } from '../../generator/cli/generate.js';
import { upCommand, type UpCommandOptions } from '../../generator/cli/up.js';
import { LabgenError } from '../../generator/errors.js';
import type { UpResult } from '../../drivers/up/up.js';
import { deepMerge, type LabOverrides, REPO_ROOT } from '../support/generated.js';
import type { TestHost } from '../support/test-hosts.js';

/** A lab folder in a temp folder: `example`'s lab.yaml with `overrides`, generated. */
export async function generatedLabDir(example: string, overrides: LabOverrides): Promise<{ dir: string; labFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'labgen-up-lab-'));
  const labFile = join(dir, 'lab.yaml');
  writeLab(labFile, deepMerge(yaml.load(readFileSync(join(REPO_ROOT, 'labs', example, 'lab.yaml'), 'utf8')), overrides));
  if ((await regenerate(labFile)).code !== 0) throw new Error(`generate failed for ${labFile}`);
  return { dir, labFile };
}

export function writeLab(labFile: string, doc: unknown): void {
  writeFileSync(labFile, yaml.dump(doc, { lineWidth: -1 }));
}

/** `labgen generate` in-process (with --new-secrets when asked); its output. */
export async function regenerate(labFile: string, opts: { newSecrets?: boolean } = {}): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await generate({ lab: labFile, ...opts }, { out: (l) => out.push(l), err: (l) => out.push(l), tty: false, interactive: false });
  return { code, out: out.join('\n') };
}

export interface UpRun {
  code: number;
  out: string[];
  err: string[];
  result?: UpResult;
  /** the LabgenError it stopped with, if it did */
  error?: LabgenError;
}

/** `labgen up` in-process, without a terminal (plain progress lines); a LabgenError is returned with its exit code, as main.ts would exit. */
export async function runUp(opts: Omit<UpCommandOptions, 'io' | 'onResult'>): Promise<UpRun> {
  const r: UpRun = { code: -1, out: [], err: [] };
  try {
    r.code = await upCommand({ ...opts, io: { out: (l) => r.out.push(l), err: (l) => r.err.push(l), tty: false }, onResult: (x) => (r.result = x) });
  } catch (e) {
    if (!(e instanceof LabgenError)) throw e;
    r.error = e;
    r.code = e.code;
  }
  return r;
}

export const shownRun = (r: UpRun) => [`exit ${r.code}`, r.error ? `error: ${r.error.message}` : '', ...r.out, ...r.err].join('\n');

/** The user labgen logs in to an existing host as: the lab key authorized, passwordless sudo (as a cloud image's user). */
export async function addLoginUser(h: TestHost, user: string, publicKey: string): Promise<void> {
  const r = await h.exec(
    `useradd -m -s /bin/bash -p '*' ${user} && install -d -m 0700 -o ${user} -g ${user} /home/${user}/.ssh && ` +
      `printf '%s\\n' '${publicKey}' >/home/${user}/.ssh/authorized_keys && chown ${user}:${user} /home/${user}/.ssh/authorized_keys && ` +
      `chmod 0600 /home/${user}/.ssh/authorized_keys && echo '${user} ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/010_${user} && chmod 0440 /etc/sudoers.d/010_${user}`,
  );
  if (r.code !== 0) throw new Error(`cannot add ${user} on ${h.name}: ${r.stderr}`);
}
