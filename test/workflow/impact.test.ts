import { describe, expect, it } from 'vitest';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import type { Decision } from '../../generator/writer/decide.js';
import { impact, type ImpactGroup, kindOfPath } from '../../generator/writer/impact.js';
import { groupSteps, impactLines, nextSteps } from '../../generator/writer/impact-report.js';
import { type LabOverrides, loadLabWith, planLab } from '../support/generated.js';
import { decisionsBetween } from './support.js';

/** impact() of going from the example lab to the lab with `overrides`. */
function change(overrides: LabOverrides, labFile = 'labs/rpi-slurm/lab.yaml') {
  const before = planLab(labFile).files;
  const after = planLab(labFile, overrides).files;
  const decisions = decisionsBetween(before, after);
  return { decisions, imp: impact(decisions) };
}

const group = (groups: ImpactGroup[], kind: ImpactGroup['kind']) => groups.find((g) => g.kind === kind);
const kinds = (groups: ImpactGroup[]) => groups.map((g) => g.kind);
const seedNodes = () => loadLabWith('labs/rpi-slurm/lab.yaml').pis.nodes.map((n) => ({ name: n.name, ip: n.ip, roles: n.roles }));

describe('impact: what must happen after a change', () => {
  it("a Pi's IP: every Pi is pushed (its /etc/hosts changed), VMs re-provisioned, k8s/ re-applied, Slurm reconfigured, laptop hosts copied", () => {
    const nodes = seedNodes().map((n) => (n.name === 'node03' ? { ...n, ip: '10.0.0.7' } : n));
    const { imp } = change({ pis: { nodes } });
    expect(imp.fresh).toBe(false);
    expect(kinds(imp.groups)).toEqual(['pi', 'vm', 'k8s', 'slurm', 'laptop', 'doc']);
    const pi = group(imp.groups, 'pi')!;
    expect(pi.hosts).toEqual(['node01', 'node02', 'node03', 'node04', 'node05']);
    expect(pi.notes).toContain("every Pi: the lab's /etc/hosts changed");
    // node03's own network file changes, and only node03's
    const network = pi.files.filter((f) => f.path.includes('NetworkManager'));
    expect(network.map((f) => [f.host, f.target])).toEqual([['node03', '/etc/NetworkManager/system-connections/lab-eth0.nmconnection']]);
    expect(groupSteps(group(imp.groups, 'vm')!)).toEqual(['labgen up (vagrant provision)']);
    expect(groupSteps(group(imp.groups, 'k8s')!)).toEqual(['labgen up (k8s/apply.sh)']);
    expect(groupSteps(group(imp.groups, 'slurm')!)).toEqual(['ssh -F laptop/ssh_config node02 sudo scontrol reconfigure']);
    expect(nextSteps(imp)).toEqual([
      'labgen push node01 node02 node03 node04 node05',
      'labgen up (vagrant provision)',
      'labgen up (k8s/apply.sh)',
      'ssh -F laptop/ssh_config node02 sudo scontrol reconfigure',
      'copy laptop/hosts into /etc/hosts (Windows: laptop/hosts.windows)',
    ]);
    expect(groupSteps(group(imp.groups, 'doc')!)).toEqual([]);
    // the same as data, for a driver to act on (labgen up)
    expect(imp.groups.flatMap((g) => g.actions)).toEqual([
      { do: 'push', pis: ['node01', 'node02', 'node03', 'node04', 'node05'] },
      { do: 'vm-provision', vms: [], reload: false },
      { do: 'k8s-apply' },
      { do: 'slurm-reconfigure', on: 'node02' },
      { do: 'copy-hosts', unix: true, windows: true },
    ]);
  });

  it('a change on one Pi only pushes that Pi', () => {
    const { imp } = change({ storage: { exports: [{ name: 'vol1', size: '40G' }, { name: 'vol2', size: '20G' }] } });
    const pi = group(imp.groups, 'pi');
    expect(pi?.hosts).toEqual(['node01']);
    expect(groupSteps(pi!)).toEqual(['labgen push node01']);
    expect(pi?.files.every((f) => f.host === 'node01')).toBe(true);
  });

  it('a new Pi gets an image, the running ones a push (their /etc/hosts changed)', () => {
    const { imp } = change({ pis: { nodes: [...seedNodes(), { name: 'node06', ip: '10.0.0.8', roles: ['compute'] }] } });
    const pi = group(imp.groups, 'pi')!;
    expect(groupSteps(pi)).toEqual(['labgen image node06 --base <Raspberry Pi OS image> and flash it, or labgen adopt node06 (README.md, step 4)', 'labgen push node01 node02 node03 node04 node05']);
    expect(pi.hosts).not.toContain('node06');
    expect(pi.files.filter((f) => f.host === 'node06').every((f) => f.action === 'create')).toBe(true);
  });

  it('a removed Pi is not pushed; the rest are', () => {
    const nodes = seedNodes().filter((n) => n.name !== 'node05');
    const { imp } = change({ pis: { nodes }, slurm: { nodes: ['node02', 'node03', 'node04'] } });
    const pi = group(imp.groups, 'pi')!;
    expect(groupSteps(pi)).toEqual(['labgen push node01 node02 node03 node04']);
    expect(pi.notes.join('\n')).toMatch(/node05 left the lab/);
    expect(pi.files.filter((f) => f.host === 'node05').every((f) => f.action === 'remove')).toBe(true);
  });

  it('a service turned on touches k8s/ (and what names it), not the Pis', () => {
    const before = planLab('labs/rpi-slurm/lab.yaml', { services: { sftp: undefined } }).files;
    const after = planLab('labs/rpi-slurm/lab.yaml').files;
    const imp = impact(decisionsBetween(before, after));
    const k8s = group(imp.groups, 'k8s')!;
    expect(groupSteps(k8s)).toEqual(['labgen up (k8s/apply.sh)']);
    expect(k8s.files.filter((f) => f.path.startsWith('k8s/sftp/')).every((f) => f.action === 'create')).toBe(true);
    // and turned off again: apply does not delete it, the note says how
    const off = impact(decisionsBetween(after, before));
    expect(group(off.groups, 'k8s')!.notes.join('\n')).toMatch(/k8s\/sftp\/ is gone: .*kubectl delete -f -/);
  });

  it('VMs: a worker more is `vagrant up`; a worker less is deleted from the cluster; the Vagrantfile means a reload', () => {
    const more = change({ cluster: { workers: { count: 4 } } }).imp;
    expect(groupSteps(group(more.groups, 'vm')!)).toEqual(['labgen up (vagrant up kv-worker-3)', 'labgen up (vagrant reload --provision)']);
    const less = change({ cluster: { workers: { count: 2 } } }).imp;
    const vm = group(less.groups, 'vm')!;
    expect(groupSteps(vm)).toEqual(['labgen up (vagrant reload --provision)', 'labgen up (kubectl delete node kv-worker-2)']);
    expect(vm.notes.join('\n')).toMatch(/vagrant destroy -f kv-worker-2/);
  });

  it('existing hosts (no Vagrantfile): labgen up provisions over SSH; a new worker joins; one that left is the user\'s to take out', () => {
    const file = 'labs/existing/lab.yaml';
    const hosts = loadLabWith(file).cluster.workers.hosts!.map((h) => ({ ...h }));
    const cni = change({ cluster: { cni: 'cilium' } }, file).imp;
    expect(groupSteps(group(cni.groups, 'vm')!)).toEqual(['labgen up (provision/ over SSH)']);
    const more = change({ cluster: { workers: { hosts: [...hosts, { name: 'k8s-w3', ip: '10.20.0.13' }] } } }, file).imp;
    expect(groupSteps(group(more.groups, 'vm')!)).toEqual(['labgen up (provision/ over SSH, kubeadm join k8s-w3)', 'labgen up (provision/ over SSH)']);
    const less = change({ cluster: { workers: { hosts: hosts.slice(0, 1) } } }, file).imp;
    const vm = group(less.groups, 'vm')!;
    expect(groupSteps(vm)).toEqual(['labgen up (provision/ over SSH)']);
    expect(vm.notes).toContain('k8s-w2 left the lab: take it out of the cluster: `kubectl delete node k8s-w2`, then `kubeadm reset` on the host (`labgen node remove k8s-w2` does both and edits lab.yaml, run before lab.yaml loses it)');
  });

  it("only one VM's own kubeadm config changed: provision that VM", () => {
    const before = planLab('labs/rpi-slurm/lab.yaml').files;
    const after = before.map((f) => (f.path === 'provision/kubeadm/kv-worker-1.yaml' ? { ...f, contents: `${f.contents}# changed\n` } : f));
    const imp = impact(decisionsBetween(before, after));
    expect(imp.groups.map((g) => [g.kind, groupSteps(g), g.hosts])).toEqual([['vm', ['labgen up (vagrant provision kv-worker-1)'], ['kv-worker-1']]]);
  });

  it('Slurm with the controller on a Pi: that Pi is pushed and runs scontrol; k8s/ is not involved', () => {
    const { imp } = change({ slurm: { partition: 'lab' } }, 'labs/minimal/lab.yaml');
    expect(kinds(imp.groups)).toEqual(['pi', 'slurm']);
    expect(groupSteps(group(imp.groups, 'pi')!)).toEqual(['labgen push pi-a']);
    expect(groupSteps(group(imp.groups, 'slurm')!)).toEqual(['ssh -F laptop/ssh_config pi-a sudo scontrol reconfigure']);
  });

  it('Slurm with slurmctld in k8s: slurm/ is its ConfigMap, so k8s/ is re-applied first', () => {
    const { imp } = change({ slurm: { partition: 'lab' } });
    expect(kinds(imp.groups)).toEqual(['k8s', 'slurm']);
    expect(group(imp.groups, 'k8s')!.notes.join()).toMatch(/ConfigMap/);
    expect(nextSteps(imp)).toEqual(['labgen up (k8s/apply.sh)', 'ssh -F laptop/ssh_config node02 sudo scontrol reconfigure']);
  });

  it('a new lab folder: README.md has the steps', () => {
    const imp = impact(decisionsBetween([], planLab('labs/rpi-slurm/lab.yaml').files));
    expect(imp.fresh).toBe(true);
    expect(nextSteps(imp)).toEqual(['follow README.md ("Bring it up, in order")']);
    expect(impactLines(imp, false)).toEqual(['what next:', '  a new lab folder: follow README.md ("Bring it up, in order")']);
  });

  it('identical, conflict and kept files have no impact; no change, no report', () => {
    const files = planLab('labs/rpi-slurm/lab.yaml').files;
    const spec = (p: string) => files.find((f) => f.path === p)!;
    const ds: Decision[] = [
      { path: 'laptop/ssh_config', action: 'conflict', spec: spec('laptop/ssh_config'), current: 'x' },
      { path: 'pis/node01/rootfs/etc/hosts', action: 'kept', spec: spec('pis/node01/rootfs/etc/hosts'), current: 'x' },
      { path: 'Vagrantfile', action: 'identical', spec: spec('Vagrantfile') },
    ];
    expect(impact(ds)).toEqual({ fresh: false, groups: [] });
    expect(impactLines(impact(ds), false)).toEqual([]);
  });

  it('is pure: the same decisions give the same impact, and the decisions are not changed', () => {
    const { decisions } = change({ cluster: { workers: { count: 2 } } });
    const copy = structuredClone(decisions);
    expect(impact(decisions)).toEqual(impact(copy));
    expect(decisions).toEqual(copy);
  });

  it('an orphan (no spec) is grouped by what the manifest recorded of it, not by its path', () => {
    const imp = impact([
      { path: 'odd/place/setup.sh', action: 'remove', was: { kind: 'pi', host: 'node09' } },
      { path: 'pis/node01/rootfs/etc/hosts', action: 'update', spec: { path: 'pis/node01/rootfs/etc/hosts', contents: '', mode: 0o644, kind: 'pi', host: 'node01', target: { path: '/etc/hosts', owner: 'root:root', restart: [] } } },
    ]);
    expect(kinds(imp.groups)).toEqual(['pi']);
    expect(group(imp.groups, 'pi')!.notes).toContain('node09 left the lab: its files were removed; nothing to push (shut it down)');
  });

  it('an orphan of a manifest from before labgen recorded kinds is grouped by its path', () => {
    expect(kindOfPath('pis/node09/rootfs/etc/hosts')).toEqual({ kind: 'pi', host: 'node09' });
    expect(kindOfPath('provision/kubeadm/kv-worker-7.yaml')).toEqual({ kind: 'vm', host: 'kv-worker-7' });
    expect(kindOfPath('provision/common.sh')).toEqual({ kind: 'vm' });
    expect(kindOfPath('Vagrantfile')).toEqual({ kind: 'vm' });
    expect(kindOfPath('k8s/tftp/tftp.yaml')).toEqual({ kind: 'k8s' });
    expect(kindOfPath('slurm/slurm.conf')).toEqual({ kind: 'slurm' });
    expect(kindOfPath('laptop/hosts')).toEqual({ kind: 'laptop' });
    expect(kindOfPath('README.md')).toEqual({ kind: 'doc' });
    // and it agrees with the planners for every planned file
    const all: FileSpec[] = [...planLab('labs/rpi-slurm/lab.yaml').files, ...planLab('labs/minimal/lab.yaml').files];
    for (const f of all) {
      const k = kindOfPath(f.path);
      expect([f.path, k.kind]).toEqual([f.path, f.kind]);
      if (f.kind === 'pi') expect(k.host).toBe(f.host);
    }
  });

  it('the report: a block per group (Pis with the same changes share a line), then one `next:` line', () => {
    const nodes = seedNodes().map((n) => (n.name === 'node03' ? { ...n, ip: '10.0.0.7' } : n));
    const lines = impactLines(change({ pis: { nodes } }).imp, false);
    expect(lines[0]).toBe('what next:');
    expect(lines).toContain('            node01 node02 node04 node05  /etc/hosts');
    expect(lines.find((l) => l.trim().startsWith('node03 '))).toMatch(/lab-eth0\.nmconnection, \/etc\/hosts$/);
    expect(lines.at(-1)).toBe(
      'next: labgen push node01 node02 node03 node04 node05; labgen up (vagrant provision); labgen up (k8s/apply.sh); ssh -F laptop/ssh_config node02 sudo scontrol reconfigure; copy laptop/hosts into /etc/hosts (Windows: laptop/hosts.windows)',
    );
  });
});
