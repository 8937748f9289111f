import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { EXIT, LabgenError } from '../errors.js';

/**
 * The keys that may log in to a Pi as the lab user: the lab's own key first, then every key in
 * the files `pis.authorizedKeys` names (the user's own, seed 003's `~/.ssh/id_ed25519.pub`).
 * Read when a Pi gets its identity (`labgen image`, `labgen adopt`), never by `generate`: the
 * lab folder stays the same on every machine, whoever's keys are on it.
 */

const KEY_TYPE = '(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/]+=*';
/** `ssh-ed25519 AAAA… comment`: an OpenSSH public key line, as a .pub file holds it. */
const KEY_LINE = new RegExp(`^${KEY_TYPE}( .*)?$`);
/**
 * `from="10.0.0.0/8",no-pty ssh-ed25519 AAAA…`: an authorized_keys line, options first. Refused,
 * and said so: labgen puts each key on a line of its own without options (`labgen adopt` knows a
 * key is there by such a line); options are for the user to add on the Pi.
 */
const WITH_OPTIONS = new RegExp(`^\\S.* ${KEY_TYPE}( .*)?$`);

/** `~/x` is under the home folder; a relative path is relative to the lab folder. */
export function keyFilePath(labDir: string, file: string): string {
  if (file === '~' || file.startsWith('~/')) return join(homedir(), file.slice(1));
  return isAbsolute(file) ? file : join(labDir, file);
}

/** The key lines of one file; a missing file or a line that is not a public key is bad input naming the field. */
function keysOf(labDir: string, file: string, field: string): string[] {
  const path = keyFilePath(labDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
    throw new LabgenError(EXIT.badInput, `${field}: ${path} ${why}`, { hint: 'name a public key file (e.g. ~/.ssh/id_ed25519.pub), or remove the entry from lab.yaml' });
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const bad = lines.findIndex((l) => !KEY_LINE.test(l));
  const hint = 'a .pub file: `ssh-ed25519 AAAA… comment`, one key per line (never the private key)';
  if (bad >= 0 && WITH_OPTIONS.test(lines[bad]!))
    throw new LabgenError(EXIT.badInput, `${field}: line ${bad + 1} of ${path} has options before the key type: labgen does not take authorized_keys options`, {
      hint: `${hint}; give the key without its options`,
    });
  if (bad >= 0) throw new LabgenError(EXIT.badInput, `${field}: line ${bad + 1} of ${path} is not an OpenSSH public key`, { hint });
  if (!lines.length) throw new LabgenError(EXIT.badInput, `${field}: ${path} holds no public key`);
  return lines;
}

/** The lab key, then the keys of `pis.authorizedKeys`, each once, in that order. */
export function authorizedKeys(labDir: string, labPublicKey: string, files: readonly string[]): string[] {
  const keys = [labPublicKey.trim(), ...files.flatMap((f, i) => keysOf(labDir, f, `pis.authorizedKeys[${i}]`))];
  return [...new Set(keys)];
}
