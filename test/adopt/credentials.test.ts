/**
 * The user's own credentials adopt logs in with, read from a temp HOME (never the machine's
 * ~/.ssh): the agent only when its socket is there, the default keys in ssh's order, a key with
 * a passphrase left out with the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loginName, ownCredentials } from '../../drivers/adopt/credentials.js';
import { describeE2e } from '../support/prereq.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'labgen-creds-'));
  dirs.push(h);
  mkdirSync(join(h, '.ssh'), { mode: 0o700 });
  return h;
}

const keygen = (h: string, name: string, type: string, passphrase = '') =>
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', join(h, '.ssh', name)]);

describeE2e('the user’s own credentials', { commands: ['ssh-keygen'] }, () => {
  it('keys in ssh’s order; one with a passphrase is skipped with the reason; a missing agent socket is named', () => {
    const h = home();
    keygen(h, 'id_rsa', 'rsa');
    keygen(h, 'id_ed25519', 'ed25519', 'secret passphrase');
    keygen(h, 'id_ecdsa', 'ecdsa');
    const c = ownCredentials(h, join(h, 'no-agent.sock'));
    expect(c.logins.map(loginName)).toEqual(['~/.ssh/id_ecdsa', '~/.ssh/id_rsa']);
    expect(c.skipped).toEqual([`SSH_AUTH_SOCK ${join(h, 'no-agent.sock')} is not a socket (no ssh-agent there)`, '~/.ssh/id_ed25519 has a passphrase (add it to ssh-agent: ssh-add)']);
  });

  it('an agent socket that is there comes first; no keys, no agent: nothing to log in with', async () => {
    const h = home();
    expect(ownCredentials(h, undefined)).toEqual({ logins: [], skipped: [] });
    keygen(h, 'id_ed25519', 'ed25519');
    const socket = join(h, 'agent.sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      expect(ownCredentials(h, socket).logins.map(loginName)).toEqual(['ssh-agent', '~/.ssh/id_ed25519']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
