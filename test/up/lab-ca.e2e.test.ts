/**
 * The lab CA and the VMs: common.sh installs it only where the lab registry is on (containerd
 * trusts the registry with it), so `labgen up` provisions the VMs again for it only then, and the
 * lab folder's README.md says so under the same condition. Here cert-manager is on and the
 * registry off (labs/minimal with cert-manager); labs/rpi-slurm has both (up.e2e.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { adminConf, type StandInBed, standInBed } from './standins.js';
import { generatedLabDir, runUp, shownRun } from './support.js';

const CP = 'k8s';

describeE2e('labgen up with cert-manager and no registry (stand-in: vagrant, kubectl)', { commands: ['bash', 'kubectl', 'base64', 'stat', 'ssh-keygen'] }, () => {
  let lab: { dir: string; labFile: string };
  let bed: StandInBed;

  beforeAll(async () => {
    lab = await generatedLabDir('minimal', { cluster: { provider: 'libvirt' }, services: { certManager: {} } });
    bed = standInBed({ admin: adminConf('minilab', 'https://api.mini.lab:6443') });
  }, 60_000);
  afterAll(() => {
    bed?.cleanup();
    if (lab) removeDir(lab.dir);
  });

  it('k8s/apply.sh saves the lab CA, and the VM is not provisioned again for it (nothing of its uses it), as its README says', async () => {
    const r = await runUp({ lab: lab.labFile, env: bed.env, timing: { pollMs: 20, readyTimeoutMs: 120_000 } });
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(existsSync(join(lab.dir, '.labgen/lab-ca.crt'))).toBe(true);
    expect(bed.vagrantCalls().slice(1)).toEqual([
      'vagrant status --machine-readable',
      `vagrant up ${CP} --provider libvirt --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
    ]);
    const readme = readFileSync(join(lab.dir, 'README.md'), 'utf8');
    expect(readme).toContain('installs `k8s/` (`k8s/apply.sh`) and prints the endpoints');
    expect(readme).not.toContain('provisions the VMs again');
  });
});
