import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLab } from '../../generator/model/load.js';
import { plan } from '../../generator/plan/index.js';
import { loadSecrets } from '../../generator/secrets/store.js';
import { EXIT } from '../../generator/errors.js';
import { editFile, labDirFrom, removeDir, snapshotTree } from '../support/tree.js';
import { assertBuilt, labgen, reportedActions } from './support.js';

/**
 * The change workflow end to end, through the built CLI without a terminal: node03 of the seed
 * lab moves from 10.0.0.4 to 10.0.0.7. The dry run must name exactly the files whose text
 * carries node03's address (old or new), say what to do next, and write nothing; generate
 * applies it; --check is then clean; a hand edit made afterwards survives the next change.
 */

const OLD = '10.0.0.4';
const NEW = '10.0.0.7';
/** the address as a whole: 10.0.0.4 but not 10.0.0.40-49 (the MetalLB pool) */
const mentions = (ip: string) => new RegExp(`(?<![\\d.])${ip.replaceAll('.', '\\.')}(?![\\d])`);

/** The plan of the lab folder as it is on disk (its lab.yaml, its secrets). */
function planOf(dir: string) {
  const lab = loadLab(join(dir, 'lab.yaml'));
  return plan(lab, loadSecrets(dir, lab.name, lab.pis.nodes).secrets);
}

let dir: string;
let file: string;
beforeAll(() => {
  assertBuilt();
  dir = labDirFrom('rpi-slurm');
  file = join(dir, 'lab.yaml');
  expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
});
afterAll(() => removeDir(dir));

describe("a Pi's IP changes (node03: 10.0.0.4 → 10.0.0.7)", () => {
  let expected: string[];

  it('--dry-run lists exactly the files that mention its old or new address, writes nothing, and says what next', () => {
    const before = planOf(dir).filter((f) => mentions(OLD).test(f.contents));
    editFile(dir, 'lab.yaml', (s) => s.replace(`{ name: node03, ip: ${OLD},`, `{ name: node03, ip: ${NEW},`));
    const after = planOf(dir).filter((f) => mentions(NEW).test(f.contents));
    expected = [...new Set([...before, ...after].map((f) => f.path))].sort();
    // what the issue names, at least: hosts on every node, node03's network file, slurm.conf, the DNS zone, laptop files
    expect(expected).toEqual(
      expect.arrayContaining([
        ...['node01', 'node02', 'node03', 'node04', 'node05'].map((n) => `pis/${n}/rootfs/etc/hosts`),
        'pis/node03/rootfs/etc/NetworkManager/system-connections/lab-eth0.nmconnection',
        'provision/files/etc/hosts.lab',
        'slurm/slurm.conf',
        'k8s/coredns/db.home.lab',
        'laptop/hosts',
        'laptop/hosts.windows',
        'laptop/ssh_config',
      ]),
    );

    const tree = snapshotTree(dir, true);
    const dry = labgen(['generate', '--lab', file, '--dry-run']);
    expect(dry.code).toBe(EXIT.ok);
    expect(reportedActions(dry.stdout)).toEqual({ update: expected });
    expect(snapshotTree(dir, true)).toEqual(tree);
    // the unified diff, and the impact grouped by what must happen next
    expect(dry.stdout).toContain('--- a/pis/node03/rootfs/etc/NetworkManager/system-connections/lab-eth0.nmconnection');
    expect(dry.stdout).toMatch(/^what next, after `labgen generate`:$/m);
    expect(dry.stdout).toMatch(/^ {2}Pis +labgen push node01 node02 node03 node04 node05$/m);
    expect(dry.stdout).toMatch(/^ +node03 +\/etc\/NetworkManager\/system-connections\/lab-eth0\.nmconnection, \/etc\/hosts$/m);
    expect(dry.stdout).toMatch(/^ {2}VMs +labgen up \(vagrant provision\)$/m);
    expect(dry.stdout).toMatch(/^ {2}k8s\/ +labgen up \(k8s\/apply\.sh\)$/m);
    expect(dry.stdout).toMatch(
      /^next: labgen push node01 node02 node03 node04 node05; labgen up \(vagrant provision\); labgen up \(k8s\/apply\.sh\); .*scontrol reconfigure; copy laptop\/hosts into \/etc\/hosts/m,
    );
  });

  it('generate writes exactly those files and prints the same what-next; --check then passes', () => {
    const r = labgen(['generate', '--lab', file]);
    expect(r.code).toBe(EXIT.ok);
    expect(reportedActions(r.stdout)).toEqual({ update: expected });
    expect(r.stdout).toMatch(/^what next:$/m);
    expect(r.stdout).toMatch(/^next: labgen push node01 node02 node03 node04 node05; labgen up \(vagrant provision\); labgen up \(k8s\/apply\.sh\);/m);
    expect(readFileSync(join(dir, 'laptop/ssh_config'), 'utf8')).toContain(`HostName ${NEW}`);
    const check = labgen(['generate', '--lab', file, '--check']);
    expect(check.code).toBe(EXIT.ok);
    expect(check.stdout).toMatch(/^up to date: /);
  });

  it('a hand-edited laptop/ssh_config survives the next change as a conflict (no terminal: exit 3, nothing written)', () => {
    editFile(dir, 'laptop/ssh_config', (s) => `${s}\nHost jump\n  HostName 10.0.0.99\n`);
    const edited = readFileSync(join(dir, 'laptop/ssh_config'), 'utf8');
    editFile(dir, 'lab.yaml', (s) => s.replace(`{ name: node03, ip: ${NEW},`, '{ name: node03, ip: 10.0.0.8,'));
    const tree = snapshotTree(dir, true);

    const dry = labgen(['generate', '--lab', file, '--dry-run']);
    expect(dry.code).toBe(EXIT.ok);
    const actions = reportedActions(dry.stdout);
    expect(actions.conflict).toEqual(['laptop/ssh_config']);
    expect(actions.update).toEqual(expected.filter((p) => p !== 'laptop/ssh_config'));
    expect(dry.stdout).toMatch(/file\(s\) changed by hand: `labgen generate` asks about each on a terminal, else stops \(exit 3\)/);

    const r = labgen(['generate', '--lab', file]);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stdout).toMatch(/conflict\s+laptop\/ssh_config\s+\(edited by hand\)/);
    expect(r.stderr).toMatch(/1 file\(s\) changed by hand; nothing was written/);
    expect(snapshotTree(dir, true)).toEqual(tree);
    expect(readFileSync(join(dir, 'laptop/ssh_config'), 'utf8')).toBe(edited);
    expect(labgen(['generate', '--lab', file, '--check']).code).toBe(EXIT.failure);
  });
});
