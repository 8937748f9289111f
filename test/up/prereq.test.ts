/**
 * `labgen up` checks what it runs before it runs anything: vagrant, the provider of
 * cluster.provider (VBoxManage; the vagrant-libvirt plugin, asked of `vagrant plugin list`) and
 * kubectl. Each one missing is named with how to install it; exit 2, nothing started. PATH is
 * made to lack them: a folder holding only `sh` (what the checks run in), and for the plugin a
 * vagrant stand-in whose plugin list lacks vagrant-libvirt.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { deepMerge, REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { adminConf, standInBed } from './standins.js';
import { runUp, writeLab } from './support.js';

const temps: string[] = [];
afterAll(() => temps.forEach(removeDir));

/** A lab.yaml (not generated: the prerequisites come first) with the provider given. */
function labWith(provider: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'labgen-up-prereq-'));
  temps.push(dir);
  const doc = deepMerge(yaml.load(readFileSync(join(REPO_ROOT, 'labs', 'minimal', 'lab.yaml'), 'utf8')), { cluster: { provider } });
  writeLab(join(dir, 'lab.yaml'), doc);
  return join(dir, 'lab.yaml');
}

/** A PATH folder with nothing but sh. */
function onlySh(): string {
  const dir = mkdtempSync(join(tmpdir(), 'labgen-up-path-'));
  temps.push(dir);
  mkdirSync(join(dir, 'bin'));
  symlinkSync('/bin/sh', join(dir, 'bin', 'sh'));
  return join(dir, 'bin');
}

describeE2e('labgen up: its prerequisites, each missing one named with how to install it (exit 2, nothing started)', { commands: ['bash'] }, () => {
  it('no vagrant, no kubectl', async () => {
    const r = await runUp({ lab: labWith('libvirt'), env: { PATH: onlySh() } });
    expect(r.code).toBe(EXIT.badInput);
    expect(r.error!.message).toBe(
      'up needs what this machine lacks; nothing was started:\n' +
        '  - vagrant: not found on PATH. Install Vagrant: https://developer.hashicorp.com/vagrant/install (Debian/Ubuntu: apt install vagrant)\n' +
        '  - kubectl: not found on PATH. Install it: https://kubernetes.io/docs/tasks/tools/ (Debian: apt install kubernetes-client)',
    );
    expect(r.error!.hint).toContain('then run `labgen up` again');
  });

  it('cluster.provider virtualbox without VirtualBox (stand-in: vagrant, kubectl on PATH, never run)', async () => {
    const bed = standInBed({ admin: adminConf('minilab', 'https://api.mini.lab:6443') });
    try {
      const r = await runUp({ lab: labWith('virtualbox'), env: { ...bed.env, PATH: `${bed.env.PATH!.split(delimiter)[0]}${delimiter}${onlySh()}` } });
      expect(r.code).toBe(EXIT.badInput);
      expect(r.error!.message).toMatch(/\n {2}- VBoxManage: not found on PATH, and cluster\.provider is virtualbox\. Install VirtualBox: https:\/\/www\.virtualbox\.org\/wiki\/Downloads/);
      expect(r.error!.message).not.toMatch(/vagrant:|kubectl:/);
      expect(bed.calls()).toEqual([]);
    } finally {
      bed.cleanup();
    }
  });

  it('cluster.provider libvirt without the vagrant-libvirt plugin (stand-in: vagrant, its plugin list empty)', async () => {
    const bed = standInBed({ admin: adminConf('minilab', 'https://api.mini.lab:6443'), plugins: '' });
    try {
      const r = await runUp({ lab: labWith('libvirt'), env: bed.env });
      expect(r.code).toBe(EXIT.badInput);
      expect(r.error!.message).toContain("  - vagrant-libvirt: not among vagrant's plugins, and cluster.provider is libvirt. Install it: `vagrant plugin install vagrant-libvirt`");
      expect(bed.calls()).toEqual(['vagrant plugin list --machine-readable']);
    } finally {
      bed.cleanup();
    }
  });
});
