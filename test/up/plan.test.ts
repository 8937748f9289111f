/**
 * What `labgen up` decides to do (drivers/up/plan.ts, pure): the writer's impact of what changed
 * since up last applied the lab folder, met with each VM's state from vagrant status.
 */
import { describe, expect, it } from 'vitest';
import { vms } from '../../generator/model/hosts.js';
import { sha256 } from '../../generator/common/text.js';
import { type FileNow, opArgs, planUp } from '../../drivers/up/plan.js';
import type { Applied, UpState } from '../../drivers/up/state.js';
import { planLab } from '../support/generated.js';
import { vagrantfileOf } from '../../generator/plan/vm/vagrantfile.js';

const { lab, files } = planLab('labs/rpi-slurm/lab.yaml', { cluster: { workers: { count: 2 } } });
const VMS = vms(lab);
const [CP, W0, W1] = ['kv-master-0', 'kv-worker-0', 'kv-worker-1'];
const NOW: FileNow[] = files
  .filter((f) => f.kind === 'vm' || f.kind === 'k8s')
  .map((f) => ({ path: f.path, sha256: sha256(f.contents), kind: f.kind as 'vm' | 'k8s', ...(f.host ? { host: f.host } : {}), spec: f }));

const applied = (now: FileNow[]): Record<string, Applied> =>
  Object.fromEntries(now.map((f) => [f.path, { sha256: f.sha256, kind: f.kind, ...(f.host ? { host: f.host } : {}) }]));
/** each VM's host key now (the sha256 of its public half), and a record of each installed by its common provisioner */
const KEYS = new Map(VMS.map((vm) => [vm.name, sha256(`ssh-ed25519 ${vm.name}`)]));
const installed: UpState['vms'] = Object.fromEntries(VMS.map((vm) => [vm.name, { hostKey: KEYS.get(vm.name)! }]));
const done: UpState = { applied: applied(NOW), vms: installed };
const states = (s: Record<string, string>) => new Map(Object.entries(s));
const running = states({ [CP]: 'running', [W0]: 'running', [W1]: 'running' });
/** NOW with one file's contents changed */
const changed = (path: string): FileNow[] => {
  expect(NOW.some((f) => f.path === path), path).toBe(true);
  return NOW.map((f) => (f.path === path ? { ...f, sha256: sha256(`${f.spec.contents}# edited\n`) } : f));
};
const ops = (p: ReturnType<typeof planUp>) => Object.fromEntries(p.steps.map((s) => [s.vm.name, s.op ? opArgs(s.vm.name, s.op, 'libvirt').join(' ') : '-']));

describe('labgen up: the plan', () => {
  it('a new lab: every VM up, the control plane first, then k8s/ applied; no token step (the control plane makes it)', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: states({ [CP]: 'not_created', [W0]: 'not_created', [W1]: 'not_created' }), now: NOW, state: { applied: {}, vms: {} } });
    expect(p.steps.map((s) => s.vm.name)).toEqual([CP, W0, W1]);
    expect(ops(p)).toEqual({ [CP]: `up ${CP} --provider libvirt`, [W0]: `up ${W0} --provider libvirt`, [W1]: `up ${W1} --provider libvirt` });
    expect(p.refreshToken).toBe(false);
    expect(p.k8sApply).toBe(true);
    expect(p.deletes).toEqual([]);
    expect(p.steps[0]!.why).toEqual(['not created']);
  });

  it('nothing changed and every VM running: nothing at all', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: NOW, state: done });
    expect(ops(p)).toEqual({ [CP]: '-', [W0]: '-', [W1]: '-' });
    expect(p.actions).toEqual([]);
    expect([p.k8sApply, p.refreshToken, p.deletes]).toEqual([false, false, []]);
  });

  it('a halted VM is booted, not provisioned; a VM vagrant does not know yet is brought up after the token step', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: states({ [CP]: 'running', [W0]: 'shutoff', [W1]: 'not_created' }), now: NOW, state: done });
    expect(ops(p)).toEqual({ [CP]: '-', [W0]: `up ${W0} --provider libvirt`, [W1]: `up ${W1} --provider libvirt` });
    expect(p.steps.map((s) => s.joins)).toEqual([false, false, true]);
    expect(p.refreshToken).toBe(true);
    expect(p.k8sApply).toBe(false);
  });

  it('a shared VM file changed: every VM provisioned (a halted one booted with --provision); k8s/ untouched', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: states({ [CP]: 'running', [W0]: 'poweroff', [W1]: 'running' }), now: changed('provision/common.sh'), state: done });
    expect(p.actions).toEqual([{ do: 'vm-provision', vms: [], reload: false }]);
    expect(ops(p)).toEqual({ [CP]: `provision ${CP}`, [W0]: `up ${W0} --provider libvirt --provision`, [W1]: `provision ${W1}` });
    expect(p.steps[1]!.why).toEqual(['poweroff', 'changed: provision/common.sh']);
    // joined workers: worker.sh changes nothing, so no token step
    expect(p.refreshToken).toBe(false);
    expect(p.k8sApply).toBe(false);
  });

  it("one VM's own kubeadm config changed: only that VM", () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: changed(`provision/kubeadm/${W1}.yaml`), state: done });
    expect(p.actions).toEqual([{ do: 'vm-provision', vms: [W1], reload: false }]);
    expect(ops(p)).toEqual({ [CP]: '-', [W0]: '-', [W1]: `provision ${W1}` });
  });

  it('the Vagrantfile changed: every running VM reloaded with its provisioners', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: changed('Vagrantfile'), state: done });
    expect(ops(p)).toEqual({ [CP]: `reload ${CP} --provision`, [W0]: `reload ${W0} --provision`, [W1]: `reload ${W1} --provision` });
  });

  it('the Vagrantfile changed, but as a VM sees it (its own line of NODES) it is what the VM booted with: provisioned, not restarted', () => {
    const vagrantfile = files.find((f) => f.path === 'Vagrantfile')!.contents;
    const view = (text: string, vm: string) => sha256(vagrantfileOf(text, vm));
    // a worker more: every VM's own view is unchanged, only the new line differs
    const more = planLab('labs/rpi-slurm/lab.yaml', { cluster: { workers: { count: 3 } } }).files.find((f) => f.path === 'Vagrantfile')!.contents;
    expect(more).not.toBe(vagrantfile);
    for (const vm of VMS) expect(view(more, vm.name), vm.name).toBe(view(vagrantfile, vm.name));
    const booted: UpState = { ...done, vms: Object.fromEntries(VMS.map((v) => [v.name, { ...installed[v.name], vagrantfile: view(vagrantfile, v.name) }])) };
    const views = new Map(VMS.map((v) => [v.name, view(more, v.name)]));
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: changed('Vagrantfile'), state: booted, vagrantfiles: views });
    expect(ops(p)).toEqual({ [CP]: `provision ${CP}`, [W0]: `provision ${W0}`, [W1]: `provision ${W1}` });
    // more memory for the workers: their own lines changed, the control plane's did not
    const bigger = planLab('labs/rpi-slurm/lab.yaml', { cluster: { workers: { count: 2, memory: 4096 } } }).files.find((f) => f.path === 'Vagrantfile')!.contents;
    const q = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: changed('Vagrantfile'), state: booted, vagrantfiles: new Map(VMS.map((v) => [v.name, view(bigger, v.name)])) });
    expect(ops(q)).toEqual({ [CP]: `provision ${CP}`, [W0]: `reload ${W0} --provision`, [W1]: `reload ${W1} --provision` });
  });

  it('a k8s/ file changed: k8s/apply.sh, no VM', () => {
    const k8s = NOW.find((f) => f.kind === 'k8s' && f.path.endsWith('.yaml'))!.path;
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: changed(k8s), state: done });
    expect(p.actions).toEqual([{ do: 'k8s-apply' }]);
    expect(ops(p)).toEqual({ [CP]: '-', [W0]: '-', [W1]: '-' });
    expect(p.k8sApply).toBe(true);
  });

  it('a VM that left the lab: its node deleted, and a note on its VM (vagrant destroy by id)', () => {
    const gone = { ...done.applied, 'provision/kubeadm/kv-worker-9.yaml': { sha256: 'x', kind: 'vm' as const, host: 'kv-worker-9' } };
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: NOW, state: { applied: gone, vms: installed } });
    expect(p.deletes).toEqual(['kv-worker-9']);
    expect(ops(p)).toEqual({ [CP]: '-', [W0]: '-', [W1]: '-' });
    expect(p.notes.join('\n')).toMatch(/kv-worker-9 left the lab: .*vagrant global-status/);
  });

  it('what a VM still needs from a failed run: provisioned again (a worker joining after the token step); only common for the lab CA', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: NOW, state: { applied: done.applied, vms: { ...installed, [W0]: { ...installed[W0], pending: 'provision' }, [W1]: { ...installed[W1], pending: 'common' } } } });
    expect(ops(p)).toEqual({ [CP]: '-', [W0]: `provision ${W0}`, [W1]: `provision ${W1} --provision-with common` });
    expect(p.steps[1]!.why).toEqual(['its last provision did not finish']);
    expect(p.refreshToken).toBe(true);
  });

  it('VMs running but new to labgen up (brought up by hand): provisioned again, the workers after the token step', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: NOW, state: { applied: {}, vms: {} } });
    expect(ops(p)).toEqual({ [CP]: `provision ${CP}`, [W0]: `provision ${W0}`, [W1]: `provision ${W1}` });
    expect(p.refreshToken).toBe(false); // the control plane's own provisioning makes the token
  });

  it('a control plane created anew is a new cluster: k8s/ applied again, and running workers named as joined to the old one', () => {
    const p = planUp({ vms: VMS, hostKeys: KEYS, states: states({ [CP]: 'not_created', [W0]: 'running', [W1]: 'running' }), now: NOW, state: done });
    expect(ops(p)).toEqual({ [CP]: `up ${CP} --provider libvirt`, [W0]: '-', [W1]: '-' });
    expect(p.k8sApply).toBe(true);
    expect(p.notes[0]).toContain('a worker that joined the old one must be rebuilt');
  });

  it("a VM's host key made anew (generate --new-secrets changes no VM file): its common provisioner only (it installs the key); a halted one booted with it; a new one gets it anyway", () => {
    const rekeyed = new Map([...KEYS, [W0, sha256('ssh-ed25519 new W0')], [W1, sha256('ssh-ed25519 new W1')]]);
    const p = planUp({ vms: VMS, hostKeys: rekeyed, states: states({ [CP]: 'running', [W0]: 'running', [W1]: 'shutoff' }), now: NOW, state: done });
    expect(p.actions).toEqual([]);
    expect(ops(p)).toEqual({ [CP]: '-', [W0]: `provision ${W0} --provision-with common`, [W1]: `up ${W1} --provider libvirt --provision-with common` });
    expect(p.steps.map((s) => s.why)).toEqual([[], ['a new SSH host key'], ['shutoff', 'a new SSH host key']]);
    // the key alone: no worker joins, so no token step, and k8s/ is as applied
    expect([p.refreshToken, p.k8sApply, p.steps.some((s) => s.joins)]).toEqual([false, false, false]);

    // a record from before up kept host keys: each running VM's common provisioner installs it once
    const unrecorded = planUp({ vms: VMS, hostKeys: KEYS, states: running, now: NOW, state: { applied: done.applied, vms: {} } });
    expect(ops(unrecorded)).toEqual({ [CP]: `provision ${CP} --provision-with common`, [W0]: `provision ${W0} --provision-with common`, [W1]: `provision ${W1} --provision-with common` });
    expect(unrecorded.steps[0]!.why).toEqual(['its SSH host key: not installed by labgen up yet']);

    const fresh = planUp({ vms: VMS, hostKeys: rekeyed, states: states({ [CP]: 'running', [W0]: 'running', [W1]: 'not_created' }), now: NOW, state: done });
    expect(ops(fresh)[W1]).toBe(`up ${W1} --provider libvirt`);
    expect(fresh.steps[2]!.why).toEqual(['not created']);
  });

  it('the vagrant arguments of each op', () => {
    expect(opArgs('v', { kind: 'up' }, 'virtualbox')).toEqual(['up', 'v', '--provider', 'virtualbox']);
    expect(opArgs('v', { kind: 'up', provision: 'all' }, 'libvirt')).toEqual(['up', 'v', '--provider', 'libvirt', '--provision']);
    expect(opArgs('v', { kind: 'up', provision: 'common' }, 'libvirt')).toEqual(['up', 'v', '--provider', 'libvirt', '--provision-with', 'common']);
    expect(opArgs('v', { kind: 'provision', only: 'control-plane' }, 'libvirt')).toEqual(['provision', 'v', '--provision-with', 'control-plane']);
    expect(opArgs('v', { kind: 'reload' }, 'libvirt')).toEqual(['reload', 'v', '--provision']);
  });
});
