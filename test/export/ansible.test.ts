/**
 * `labgen export --ansible` (issue #14) through the built CLI, on a generated seed lab in a
 * folder whose path has a space: the inventory read by the real `ansible-inventory` (Debian's
 * ansible-core) with unparsed sources an error, and the ssh_config by the real OpenSSH
 * (`ssh -G`, which prints the options a connection would use and connects nowhere). The
 * bastion hook is the pure planner's: tested with a bastion value directly.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { inventoryGroups } from '../../generator/plan/export/inventory.js';
import { planExportSshConfig } from '../../generator/plan/export/ssh-config.js';
import { generateLab, REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { assertBuilt, labgen } from '../workflow/support.js';
import { readZip } from './zip-reader.js';

let root: string;
let dir: string;
let file: string;
let out: string;
beforeAll(() => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'labgen-export-ansible-'));
  dir = join(root, 'my lab');
  file = join(dir, 'lab.yaml');
  mkdirSync(dir);
  copyFileSync(join(REPO_ROOT, 'labs/rpi-slurm/lab.yaml'), file);
  expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);
  out = join(dir, 'exports', 'ansible');
});
afterAll(() => removeDir(root));

const VMS = ['kv-master-0', 'kv-worker-0', 'kv-worker-1', 'kv-worker-2'];
const PIS = ['node01', 'node02', 'node03', 'node04', 'node05'];

/** ansible-inventory --list with unparsed sources an error (and Ansible's own files in the test's folder) */
const inventoryList = (file: string) =>
  spawnSync('ansible-inventory', ['-i', file, '--list'], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_HOME: join(root, 'ansible-home'), ANSIBLE_LOCAL_TEMP: join(root, 'ansible-tmp') },
  });

/** `ssh -G` of a host, as option → values (ssh prints keys in lower case). */
function sshG(config: string, host: string): Map<string, string[]> {
  const r = spawnSync('ssh', ['-G', '-F', config, host], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const m = new Map<string, string[]>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [k, ...v] = line.split(' ');
    m.set(k!, [...(m.get(k!) ?? []), v.join(' ')]);
  }
  return m;
}

describe('labgen export --ansible: the CLI', () => {
  it('writes exports/ansible/ in the lab folder, the same bytes every time', () => {
    const first = labgen(['export', '--ansible', '--lab', file]);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    expect(first.stdout).toContain(`wrote ${out}/: inventory.yaml, ssh_config`);
    const bytes = ['inventory.yaml', 'ssh_config'].map((f) => readFileSync(join(out, f), 'utf8'));
    expect(labgen(['export', '--ansible', '--lab', file]).code).toBe(EXIT.ok);
    expect(['inventory.yaml', 'ssh_config'].map((f) => readFileSync(join(out, f), 'utf8'))).toEqual(bytes);
  });

  it("the lab folder's zip leaves exports/ out (absolute paths of this machine), and says so", () => {
    const zip = join(root, 'carried.zip');
    const r = labgen(['export', '--out', zip, '--lab', file]);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(readZip(zip).filter((e) => e.name.startsWith('exports/'))).toEqual([]);
    expect(r.stdout).toContain('exports/ (labgen export --ansible/--terraform output');
  });

  it('--ansible with --terraform, or --with-secrets, is bad input; an --out that is a file too; nothing written', () => {
    const target = join(root, 'elsewhere');
    for (const args of [['--ansible', '--terraform'], ['--ansible', '--with-secrets']]) {
      const r = labgen(['export', ...args, '--out', target, '--lab', file]);
      expect(r.code, args.join(' ')).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/^labgen: /);
    }
    writeFileSync(join(root, 'a-file'), 'x');
    const r = labgen(['export', '--ansible', '--out', join(root, 'a-file'), '--lab', file]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain('is a file, not a folder');
    expect(existsSync(target)).toBe(false);
  });

  it('a lab folder never generated (no lab key, no pins) is refused, naming what is missing', () => {
    const bare = join(root, 'bare');
    mkdirSync(bare);
    copyFileSync(file, join(bare, 'lab.yaml'));
    const r = labgen(['export', '--ansible', '--lab', join(bare, 'lab.yaml')]);
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toContain('.labgen/secrets/id_ed25519 (missing)');
    expect(r.stderr).toContain('labgen generate');
    expect(existsSync(join(bare, 'exports'))).toBe(false);
  });
});

describeE2e('the exported inventory, read by ansible-inventory', { commands: ['ansible-inventory'] }, () => {
  it('kubespray groups and the Pis, each host with ansible_host, ip and ansible_user; nothing unparsed', () => {
    const r = inventoryList(join(out, 'inventory.yaml'));
    expect(r.status, r.stderr).toBe(0);
    const inv = JSON.parse(r.stdout) as Record<string, { hosts?: string[]; children?: string[] }> & { _meta: { hostvars: Record<string, Record<string, string>> } };
    expect(inv.kube_control_plane!.hosts).toEqual(['kv-master-0']);
    expect(inv.etcd!.hosts).toEqual(['kv-master-0']);
    expect(inv.kube_node!.hosts).toEqual(['kv-worker-0', 'kv-worker-1', 'kv-worker-2']);
    expect(inv.k8s_cluster!.children!.sort()).toEqual(['kube_control_plane', 'kube_node']);
    expect(inv.pis!.hosts).toEqual(PIS);
    expect(inv.pis!.children!.sort()).toEqual(['pis_aptcache', 'pis_compute', 'pis_storage']);
    expect(inv.pis_storage!.hosts).toEqual(['node01']);
    expect(inv.pis_compute!.hosts).toEqual(['node02', 'node03', 'node04', 'node05']);
    const vars = inv._meta.hostvars;
    expect(vars['kv-master-0']).toMatchObject({ ansible_host: '10.0.0.210', ip: '10.0.0.210', ansible_user: 'vagrant' });
    expect(vars.node03).toMatchObject({ ansible_host: '10.0.0.4', ip: '10.0.0.4', ansible_user: 'pi' });
    // ssh gets the export's ssh_config, its path quoted for the space in it
    expect(vars.node03!.ansible_ssh_common_args).toBe(`-F '${join(out, 'ssh_config')}'`);
  });

  it('an unparsable inventory fails with the same settings (the check can fail)', () => {
    const bad = join(root, 'bad-inventory.yaml');
    writeFileSync(bad, 'all:\n  hosts: [not, a, mapping\n');
    const r = inventoryList(bad);
    expect(r.status).not.toBe(0);
  });
});

describeE2e('the exported ssh_config, read by OpenSSH (ssh -G)', { commands: ['ssh'] }, () => {
  it('every host, by name and by address: its address, user, key, and the pinned host key checked strictly', () => {
    const config = join(out, 'ssh_config');
    const hosts = [...VMS.map((n, i) => ({ n, ip: i === 0 ? '10.0.0.210' : `10.0.0.${219 + i}`, user: 'vagrant', key: join(dir, `.vagrant/machines/${n}/virtualbox/private_key`) })),
      ...PIS.map((n, i) => ({ n, ip: `10.0.0.${2 + i}`, user: 'pi', key: join(dir, '.labgen/secrets/id_ed25519') }))];
    for (const h of hosts)
      for (const as of [h.n, h.ip]) {
        const o = sshG(config, as);
        expect(o.get('hostname'), as).toEqual([h.ip]);
        expect(o.get('user'), as).toEqual([h.user]);
        expect(o.get('identityfile'), as).toEqual([h.key]);
        expect(o.get('stricthostkeychecking'), as).toEqual(['true']);
        expect(o.get('userknownhostsfile'), as).toEqual([join(dir, '.labgen/known_hosts')]);
        expect(o.get('hostkeyalias'), as).toEqual([h.n]);
        expect(o.get('proxyjump'), as).toBeUndefined();
      }
  });

  it('with a bastion (the planner given one): the cluster hosts jump through it, the Pis do not, and the bastion is checked too', async () => {
    const lab = await generateLab('labs/rpi-slurm/lab.yaml');
    try {
      const config = join(root, 'bastion_config');
      writeFileSync(config, planExportSshConfig(lab.lab, { labDir: dir, outDir: root, bastion: { name: 'jump', address: '203.0.113.5', user: 'ops', port: 2222 } }));
      for (const vm of VMS) expect(sshG(config, vm).get('proxyjump'), vm).toEqual(['jump']);
      expect(sshG(config, 'node01').get('proxyjump')).toBeUndefined();
      const j = sshG(config, 'jump');
      expect(j.get('hostname')).toEqual(['203.0.113.5']);
      expect(j.get('user')).toEqual(['ops']);
      expect(j.get('port')).toEqual(['2222']);
      expect(j.get('stricthostkeychecking')).toEqual(['true']);
      expect(j.get('hostkeyalias')).toEqual(['jump']);
      expect(j.get('userknownhostsfile')).toEqual([join(dir, '.labgen/known_hosts')]);
    } finally {
      await lab.cleanup();
    }
  });
});

describe('the inventory planner', () => {
  it('a lab without workers: the control plane is the node (kubeadm leaves it untainted), listed once with its variables', async () => {
    const lab = await generateLab('labs/rpi-slurm/lab.yaml', { cluster: { workers: { count: 0 } } });
    try {
      const g = inventoryGroups(lab.lab, { labDir: '/l', outDir: '/o' }).all.children!;
      expect(Object.keys(g.kube_node!.hosts!)).toEqual(['kv-master-0']);
      expect(g.kube_control_plane!.hosts!['kv-master-0']).toMatchObject({ ansible_host: '10.0.0.210' });
      expect(g.kube_node!.hosts!['kv-master-0']).toEqual({});
    } finally {
      await lab.cleanup();
    }
  });

  it('a lab without Pis has no pis group', async () => {
    const lab = await generateLab('labs/minimal/lab.yaml');
    try {
      const g = inventoryGroups({ ...lab.lab, pis: { ...lab.lab.pis, nodes: [] } }, { labDir: '/l', outDir: '/o' }).all.children!;
      expect(g.pis).toBeUndefined();
    } finally {
      await lab.cleanup();
    }
  });
});
