/**
 * The day-2 commands on a lab of VMs (the seed lab, libvirt, one worker), end to end against
 * stand-ins for vagrant and kubectl (test/up/standins.ts: no VM and no cluster can run here; the
 * real ones run in test/vm/vagrant-libvirt.e2e.test.ts). Real: lab.yaml edited and regenerated,
 * the Vagrantfile, .labgen/up-state.json, `labgen up` after each. The tests run in order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeAdd, nodeRemove, resetCommand } from '../../generator/cli/node.js';
import { SECRETS_DIR, UP_STATE } from '../../generator/common/layout.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { parseLabYaml } from '../../generator/model/load.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { adminConf, type StandInBed, standInBed } from './standins.js';
import { generatedLabDir, runUp, shownRun } from './support.js';

const CP = 'kv-master-0';
const [W0, W1] = ['kv-worker-0', 'kv-worker-1'];
const FAST = { pollMs: 20, readyTimeoutMs: 120_000 };

describeE2e('labgen node add / node remove / reset on VMs (stand-in: vagrant, kubectl)', { commands: ['bash', 'kubectl', 'base64', 'stat', 'ssh-keygen'] }, () => {
  let lab: { dir: string; labFile: string };
  let bed: StandInBed;
  const io = (out: string[]) => ({ out: (l: string) => out.push(l), err: (l: string) => out.push(l), tty: false });
  async function day2(fn: (o: ReturnType<typeof io>) => Promise<number>): Promise<{ code: number; out: string[]; error?: LabgenError }> {
    const out: string[] = [];
    try {
      return { code: await fn(io(out)), out };
    } catch (e) {
      if (!(e instanceof LabgenError)) throw e;
      return { code: e.code, out, error: e };
    }
  }
  const workers = () => parseLabYaml(readFileSync(lab.labFile, 'utf8')).cluster.workers.count;

  beforeAll(async () => {
    lab = await generatedLabDir('rpi-slurm', { cluster: { provider: 'libvirt', workers: { count: 1 } } });
    bed = standInBed({ admin: adminConf('homelab', 'https://api.home.lab:6443') });
    const r = await runUp({ lab: lab.labFile, env: bed.env, timing: FAST });
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
  }, 60_000);
  afterAll(() => {
    bed?.cleanup();
    if (lab) removeDir(lab.dir);
  });

  it('node add: only the next number (exit 2 otherwise); then count + 1, the Vagrantfile names it, and up brings up that VM alone, a fresh token first', async () => {
    const out = await day2((o) => nodeAdd('kv-worker-5', { lab: lab.labFile, env: bed.env, io: o }));
    expect(out.code).toBe(EXIT.badInput);
    expect(out.error?.hint).toBe(`labgen node add ${W1} (cluster.workers.count 1 → 2)`);
    bed.clearCalls();
    const r = await day2((o) => nodeAdd(W1, { lab: lab.labFile, env: bed.env, timing: FAST, io: o }));
    expect(r.code, r.out.join('\n')).toBe(EXIT.ok);
    expect(workers()).toBe(2);
    expect(readFileSync(join(lab.dir, 'Vagrantfile'), 'utf8')).toContain(`name: '${W1}'`);
    const ups = bed.vagrantCalls().filter((c) => / (up|provision|reload) /.test(c));
    // the others are provisioned (their /etc/hosts names the new one: the control plane's token with it), not restarted: their lines of the Vagrantfile did not change
    expect(ups).toEqual([`vagrant provision ${CP} --machine-readable`, `vagrant provision ${W0} --machine-readable`, `vagrant up ${W1} --provider libvirt --machine-readable`]);
  });

  it('node remove: only the last worker (exit 2 otherwise); then drained, deleted, reset.sh fed to the VM, the VM destroyed, count - 1; the next up provisions the others (their /etc/hosts), restarting none', async () => {
    const early = await day2((o) => nodeRemove(W0, { lab: lab.labFile, env: bed.env, io: o, yes: true }));
    expect(early.code).toBe(EXIT.badInput);
    expect(early.error?.message).toContain(`only the last one (${W1}) can leave`);
    bed.clearCalls();
    const r = await day2((o) => nodeRemove(W1, { lab: lab.labFile, env: bed.env, io: o, yes: true }));
    expect(r.code, r.out.join('\n')).toBe(EXIT.ok);
    const admin = `--kubeconfig=${join(lab.dir, SECRETS_DIR, 'admin.kubeconfig')}`;
    expect(bed.kubectlCalls().map((c) => c.split(' KUBECONFIG=')[0])).toEqual([
      `kubectl ${admin} drain ${W1} --ignore-daemonsets --delete-emptydir-data --force --timeout=120s`,
      `kubectl ${admin} delete node ${W1} --ignore-not-found`,
    ]);
    expect(bed.vagrantCalls().filter((c) => !/ (status|plugin list) /.test(c))).toEqual([
      // as root the way an SSH host runs it (sudo -n, root's PATH), the script on stdin (the log's line ends at the PATH line's end)
      `vagrant ssh ${W1} --no-tty -c sudo -n -- sh -c 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; LC_ALL=C; export PATH LC_ALL`,
      `vagrant destroy -f ${W1} --machine-readable`,
    ]);
    // what the VM got on stdin: the lab folder's reset.sh, as it is
    expect(readFileSync(join(bed.dir, `stdin-${W1}`), 'utf8')).toBe(readFileSync(join(lab.dir, 'provision', 'reset.sh'), 'utf8'));
    expect(bed.state(W1)).toBe('not_created');
    expect(workers()).toBe(1);
    expect(readFileSync(join(lab.dir, 'Vagrantfile'), 'utf8')).not.toContain(W1);
    expect(readFileSync(join(lab.dir, UP_STATE), 'utf8')).not.toContain(W1);
    // its share (the copy of its host key) went with it
    expect(existsSync(join(lab.dir, SECRETS_DIR, 'vms', W1))).toBe(false);
    expect(existsSync(join(lab.dir, SECRETS_DIR, 'vms', W0))).toBe(true);
    expect(r.out.join('\n')).not.toContain('left the lab');
    bed.clearCalls();
    const again = await runUp({ lab: lab.labFile, env: bed.env, timing: FAST });
    expect(again.code, shownRun(again)).toBe(EXIT.ok);
    expect(bed.vagrantCalls().filter((c) => / (up|provision|reload|destroy) /.test(c))).toEqual([`vagrant provision ${CP} --machine-readable`, `vagrant provision ${W0} --machine-readable`]);
    expect(again.result!.cluster.did.join('\n')).not.toContain('delete node');
  });

  it('reset with a VM not running (its disk still holds the cluster): that one named (exit 1), the others reset; the kubeconfigs stay while the control plane is not reset', async () => {
    bed.setState(CP, 'poweroff');
    const r = await day2((o) => resetCommand({ lab: lab.labFile, env: bed.env, io: o, yes: true }));
    expect(r.code, r.out.join('\n')).toBe(EXIT.failure);
    const text = r.out.join('\n');
    expect(text).toContain(`labgen: reset failed on ${CP}; the others were reset`);
    expect(text).toContain(`${CP}: failed at reset.sh: the VM is poweroff: its disk still holds the cluster; start it (vagrant up ${CP} --no-provision) and run labgen reset again`);
    expect(existsSync(join(bed.dir, `stdin-${W0}`))).toBe(true);
    expect(existsSync(join(lab.dir, SECRETS_DIR, 'admin.kubeconfig'))).toBe(true);
    bed.setState(CP, 'running');
  });

  it('reset: reset.sh on the worker, then the control plane; the kubeconfigs gone; the next up provisions both again and applies k8s/', async () => {
    bed.clearCalls();
    const r = await day2((o) => resetCommand({ lab: lab.labFile, env: bed.env, io: o, yes: true }));
    expect(r.code, r.out.join('\n')).toBe(EXIT.ok);
    expect(bed.vagrantCalls().filter((c) => c.includes(' ssh ')).map((c) => c.split(' ')[2])).toEqual([W0, CP]);
    expect(existsSync(join(lab.dir, SECRETS_DIR, 'admin.kubeconfig'))).toBe(false);
    bed.clearCalls();
    const up = await runUp({ lab: lab.labFile, env: bed.env, timing: FAST });
    expect(up.code, shownRun(up)).toBe(EXIT.ok);
    expect(bed.vagrantCalls().filter((c) => / (up|provision) /.test(c))).toEqual([
      `vagrant provision ${CP} --machine-readable`,
      `vagrant provision ${W0} --machine-readable`,
    ]);
    expect(up.result!.cluster.did).toContain('k8s/apply.sh');
  });
});
