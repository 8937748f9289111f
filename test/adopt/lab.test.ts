/**
 * What adopt starts from (drivers/adopt/lab.ts), on a lab folder generated in-process: the command
 * line checked before anything is opened (exit 2), the lab folder up to date with every host
 * pinned (push does without the pins; adopt does not), and the install payload carrying the one
 * labgen-host-key script a VM runs too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installPayload } from '../../drivers/adopt/install.js';
import { loadAdoptLab } from '../../drivers/adopt/lab.js';
import { loadTargets } from '../../drivers/push/targets.js';
import { generate } from '../../generator/cli/generate.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { hostKeyHelper } from '../../generator/plan/vm/provision.js';
import { labDirFrom, removeDir } from '../support/tree.js';

const dirs: string[] = [];
afterAll(() => dirs.splice(0).forEach(removeDir));

async function generated(): Promise<{ dir: string; file: string }> {
  const dir = labDirFrom('minimal');
  dirs.push(dir);
  const file = join(dir, 'lab.yaml');
  expect(await generate({ lab: file }, { out: () => undefined, err: () => undefined })).toBe(EXIT.ok);
  return { dir, file };
}

function thrown(f: () => unknown): LabgenError {
  try {
    f();
  } catch (e) {
    if (e instanceof LabgenError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('loadAdoptLab', () => {
  it('the command line is checked first: --user, --address, the Pis named (exit 2, the lab folder not even opened)', () => {
    const nowhere = '/nonexistent/lab.yaml';
    const user = thrown(() => loadAdoptLab({ lab: nowhere, user: 'a b' }, ['pi-a']));
    expect([user.code, user.message]).toEqual([EXIT.badInput, '--user "a b" is not a user name']);
    expect(thrown(() => loadAdoptLab({ lab: nowhere, user: '-oProxyCommand=x' }, ['pi-a'])).code).toBe(EXIT.badInput);
    expect(thrown(() => loadAdoptLab({ lab: nowhere, address: '-oProxyCommand=x' }, ['pi-a'])).message).toContain('is not an address or a host name');
    expect(thrown(() => loadAdoptLab({ lab: nowhere }, [])).message).toBe('name the Pis to adopt');
  });

  it('a valid --user is who logs in; the lab user is otherwise', async () => {
    const { file } = await generated();
    expect(loadAdoptLab({ lab: file, user: 'john.doe' }, ['pi-a']).loginUser).toBe('john.doe');
    expect(loadAdoptLab({ lab: file }, ['pi-a']).loginUser).toBeUndefined();
  });

  it("a Pi's pin taken out of .labgen/known_hosts: adopt refuses (it tells another Pi's key by the pins), push does not (exit 1, named)", async () => {
    const { dir, file } = await generated();
    const known = join(dir, '.labgen/known_hosts');
    writeFileSync(known, readFileSync(known, 'utf8').split('\n').filter((l) => !l.startsWith('pi-b,')).join('\n'));
    const e = thrown(() => loadAdoptLab({ lab: file }, ['pi-a']));
    expect(e.code).toBe(EXIT.failure);
    expect(e.message).toBe('the lab folder is out of date with lab.yaml; nothing was adopted:\n  .labgen/known_hosts (pins missing)');
    expect(e.hint).toContain('run `labgen generate` first');
    expect(loadTargets({ lab: file }, ['pi-a']).targets.map((t) => t.node)).toEqual(['pi-a']);
  });

  it('the payload carries the host key, its .pub, the authorized keys and labgen-host-key as a VM runs it: one base64 line each', async () => {
    const { file } = await generated();
    const lab = loadAdoptLab({ lab: file }, ['pi-a']);
    const t = lab.targets[0]!;
    const lines = installPayload({ user: t.user, hostKey: t.hostKey, authorizedKeys: lab.authorizedKeys }).toString().split('\n');
    const decoded = lines.slice(0, 4).map((l) => Buffer.from(l, 'base64').toString());
    expect(decoded).toEqual([t.hostKey.private, t.hostKey.public, `${lab.authorizedKeys.join('\n')}\n`, hostKeyHelper()]);
    expect(lines.slice(4)).toEqual(['']);
  });
});
