import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabgenError } from '../../generator/errors.js';
import { authorizedKeys } from '../../generator/lab-folder/authorized-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'labgen-authkeys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real key pair from ssh-keygen, so the lines are what users' .pub files hold. */
function keyFile(name: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@laptop`, '-f', join(dir, name)]);
  return `${name}.pub`;
}

describe('pis.authorizedKeys', () => {
  const lab = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDk0 labgen@lab\n';

  it('the lab key first, then each file’s keys, each once; relative to the lab folder', () => {
    const a = keyFile('a');
    const keys = authorizedKeys(dir, lab, [a, join(dir, a)]);
    expect(keys).toEqual([lab.trim(), readFileSync(join(dir, a), 'utf8').trim()]);
    // what sshd reads: ssh-keygen parses every line of the result
    writeFileSync(join(dir, 'authorized_keys'), `${keys.slice(1).join('\n')}\n`);
    expect(execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'authorized_keys')]).toString()).toMatch(/SHA256:.*a@laptop/);
  });

  it('a missing file names the field and the path (exit 2)', () => {
    const e = (() => {
      try {
        authorizedKeys(dir, lab, ['nope.pub']);
      } catch (err) {
        return err as LabgenError;
      }
    })();
    expect(e).toBeInstanceOf(LabgenError);
    expect(e!.code).toBe(2);
    expect(e!.message).toBe(`pis.authorizedKeys[0]: ${join(dir, 'nope.pub')} does not exist`);
  });

  it('a private key or junk is refused, never passed on', () => {
    keyFile('b');
    expect(() => authorizedKeys(dir, lab, ['b'])).toThrow(/pis.authorizedKeys\[0\]: line 1 of .*\/b is not an OpenSSH public key/);
    writeFileSync(join(dir, 'empty.pub'), '# nothing\n');
    expect(() => authorizedKeys(dir, lab, ['empty.pub'])).toThrow(/holds no public key/);
  });

  it('an authorized_keys line with options is refused as such (exit 2), never passed on', () => {
    const pub = readFileSync(join(dir, keyFile('c')), 'utf8').trim();
    writeFileSync(join(dir, 'with-options.pub'), `${pub}\nfrom="10.0.0.0/8",no-pty ${pub}\n`);
    const e = (() => {
      try {
        authorizedKeys(dir, lab, ['with-options.pub']);
      } catch (err) {
        return err as LabgenError;
      }
    })();
    expect(e?.code).toBe(2);
    expect(e?.message).toBe(`pis.authorizedKeys[0]: line 2 of ${join(dir, 'with-options.pub')} has options before the key type: labgen does not take authorized_keys options`);
    expect(e?.hint).toContain('without its options');
  });
});
