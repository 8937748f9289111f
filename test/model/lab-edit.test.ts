/**
 * lab.yaml edited by `labgen node add` / `labgen node remove` (generator/model/lab-edit.ts): the
 * one value changed, read back by js-yaml (what labgen loads lab.yaml with) and validated like any
 * lab.yaml; every comment and every other line of the user's file as it was.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { withoutWorker, withWorker } from '../../generator/model/lab-edit.js';
import { parseLabYaml } from '../../generator/model/load.js';
import { vms } from '../../generator/model/hosts.js';
import { REPO_ROOT } from '../support/generated.js';

const seed = (name: string) => readFileSync(join(REPO_ROOT, 'labs', name, 'lab.yaml'), 'utf8');
const comments = (text: string) => text.split('\n').filter((l) => l.includes('#')).map((l) => l.slice(l.indexOf('#')));
/** the lines of `a` not in `b` */
const gone = (a: string, b: string) => a.split('\n').filter((l) => !b.split('\n').includes(l));

function refused(fn: () => unknown): LabgenError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LabgenError);
    expect((e as LabgenError).code).toBe(EXIT.badInput);
    return e as LabgenError;
  }
  throw new Error('not refused');
}

describe('lab.yaml edits of the day-2 commands', () => {
  it('existing hosts: a worker appended in the style of the list (flow entries stay flow), comments and the rest kept', () => {
    const text = seed('existing');
    const lab = parseLabYaml(text);
    const next = withWorker(text, lab, { name: 'k8s-w3', ip: '10.20.0.13', disk: '/dev/vdc' });
    expect(next).toContain('      - { name: k8s-w3, ip: 10.20.0.13, disk: /dev/vdc }\n');
    expect(gone(text, next)).toEqual([]);
    expect(comments(next)).toEqual(comments(text));
    const after = parseLabYaml(next);
    expect(vms(after).map((v) => v.name)).toEqual(['k8s-cp', 'k8s-w1', 'k8s-w2', 'k8s-w3']);
    expect(after.cluster.workers.hosts?.[2]).toEqual({ name: 'k8s-w3', ip: '10.20.0.13', disk: '/dev/vdc' });
  });

  it('existing hosts: any worker can leave; only its entry goes', () => {
    const text = seed('existing');
    const next = withoutWorker(text, parseLabYaml(text), 'k8s-w1');
    expect(gone(text, next)).toEqual(['      - { name: k8s-w1, ip: 10.20.0.11, disk: /dev/vdb }']);
    expect(vms(parseLabYaml(next)).map((v) => v.name)).toEqual(['k8s-cp', 'k8s-w2']);
    // the last one too: an empty list, a cluster of the control plane alone
    const none = withoutWorker(next, parseLabYaml(next), 'k8s-w2');
    expect(vms(parseLabYaml(none)).map((v) => v.name)).toEqual(['k8s-cp']);
  });

  it('existing hosts: a lab without a workers list gets one', () => {
    const doc = yaml.load(seed('existing')) as { cluster: { workers?: unknown } };
    delete doc.cluster.workers;
    const text = `# mine\n${yaml.dump(doc)}`;
    const next = withWorker(text, parseLabYaml(text), { name: 'w1', ip: '10.20.0.11' });
    expect(next.startsWith('# mine\n')).toBe(true);
    expect(parseLabYaml(next).cluster.workers.hosts).toEqual([{ name: 'w1', ip: '10.20.0.11' }]);
  });

  it('VMs: the next number is one more in cluster.workers.count, the last one leaves by one less; the line keeps its comment', () => {
    const text = seed('rpi-slurm');
    const lab = parseLabYaml(text);
    expect(lab.cluster.workers.count).toBe(3);
    const next = withWorker(text, lab, { name: 'kv-worker-3' });
    expect(gone(text, next)).toEqual(['  workers: { count: 3, namePrefix: kv-worker-, firstIp: 10.0.0.220, cpus: 2, memory: 2048 }']);
    expect(next).toContain('  workers: { count: 4, namePrefix: kv-worker-, firstIp: 10.0.0.220, cpus: 2, memory: 2048 }');
    expect(comments(next)).toEqual(comments(text));
    const four = vms(parseLabYaml(next));
    expect(four.at(-1)).toMatchObject({ name: 'kv-worker-3', ip: '10.0.0.223' });
    const back = withoutWorker(next, parseLabYaml(next), 'kv-worker-3');
    expect(back).toBe(text);
  });

  it('existing hosts, other layouts: block entries, CRLF, no final newline, a comment after the list, a flow list; each read back as the lab it should be', () => {
    const head = (hosts: string) =>
      [
        'version: 1',
        'name: e',
        'domain: e.lab',
        'network: { subnet: 10.20.0.0/24, gateway: 10.20.0.1 }',
        'cluster:',
        '  provider: existing',
        '  ssh: { user: ops }',
        '  controlPlane: { name: cp, ip: 10.20.0.10 }',
        '  workers:',
        hosts,
      ].join('\n');
    const names = (text: string) => parseLabYaml(text).cluster.workers.hosts?.map((h) => `${h.name} ${h.ip}`);
    const add = (text: string) => withWorker(text, parseLabYaml(text), { name: 'w2', ip: '10.20.0.12' });
    // block entries: the new one as a block too, at the same indentation
    const block = head('    hosts:\n      - name: w1\n        ip: 10.20.0.11\n# the end\n');
    const b = add(block);
    expect(b).toBe(head('    hosts:\n      - name: w1\n        ip: 10.20.0.11\n      - name: w2\n        ip: 10.20.0.12\n# the end\n'));
    expect(names(b)).toEqual(['w1 10.20.0.11', 'w2 10.20.0.12']);
    expect(withoutWorker(b, parseLabYaml(b), 'w1')).toBe(head('    hosts:\n      - name: w2\n        ip: 10.20.0.12\n# the end\n'));
    // no newline at the end of the file
    const bare = head('    hosts:\n      - { name: w1, ip: 10.20.0.11 }');
    expect(add(bare)).toBe(`${bare}\n      - { name: w2, ip: 10.20.0.12 }\n`);
    // CRLF: the new line ends as the others do
    const crlf = head('    hosts:\n      - { name: w1, ip: 10.20.0.11 }  # first\n').replace(/\n/g, '\r\n');
    const c = add(crlf);
    expect(c).toBe(`${crlf}      - { name: w2, ip: 10.20.0.12 }\r\n`);
    expect(names(c)).toEqual(['w1 10.20.0.11', 'w2 10.20.0.12']);
    // a flow list: set in the document (laid out anew, still the same lab)
    const flow = head('    hosts: [{ name: w1, ip: 10.20.0.11 }]\n');
    expect(names(add(flow))).toEqual(['w1 10.20.0.11', 'w2 10.20.0.12']);
    // the last entry out: an empty list, still a valid lab
    const one = head('    hosts:\n      - { name: w1, ip: 10.20.0.11 }\n');
    expect(names(withoutWorker(one, parseLabYaml(one), 'w1'))).toEqual([]);
  });

  it('VMs, other layouts: count in a block map, count left out (the default), each set where it is', () => {
    const text = seed('rpi-slurm').replace(
      '  workers: { count: 3, namePrefix: kv-worker-, firstIp: 10.0.0.220, cpus: 2, memory: 2048 }',
      '  workers:\n    count: 3   # three to start\n    namePrefix: kv-worker-\n    firstIp: 10.0.0.220',
    );
    const next = withWorker(text, parseLabYaml(text), { name: 'kv-worker-3' });
    expect(next).toBe(text.replace('    count: 3   # three to start', '    count: 4   # three to start'));
    const implicit = text.replace('    count: 3   # three to start\n', '');
    const lab = parseLabYaml(implicit);
    const first = withWorker(implicit, lab, { name: `kv-worker-${lab.cluster.workers.count}` });
    expect(parseLabYaml(first).cluster.workers.count).toBe(lab.cluster.workers.count + 1);
  });

  it('refused, naming why (exit 2): a name the lab has, the control plane, a VM out of turn, an address for a VM, a host without one', () => {
    const vmText = seed('rpi-slurm');
    const vmLab = parseLabYaml(vmText);
    expect(refused(() => withWorker(vmText, vmLab, { name: 'kv-worker-1' })).message).toBe('kv-worker-1 is already a worker of the lab (cluster.workers.firstIp (+1))');
    const turn = refused(() => withWorker(vmText, vmLab, { name: 'big' }));
    expect(turn.message).toBe('big: VM workers are named by number; the next one is kv-worker-3');
    expect(turn.hint).toBe('labgen node add kv-worker-3 (cluster.workers.count 3 → 4)');
    expect(refused(() => withWorker(vmText, vmLab, { name: 'kv-worker-3', ip: '10.0.0.99' })).message).toContain('--ip: VM workers take their address from cluster.workers.firstIp');
    expect(refused(() => withoutWorker(vmText, vmLab, 'kv-worker-0')).message).toContain('only the last one (kv-worker-2) can leave');
    expect(refused(() => withoutWorker(vmText, vmLab, 'kv-master-0')).message).toBe('kv-master-0 is the control plane: a cluster cannot go on without it');
    expect(refused(() => withoutWorker(vmText, vmLab, 'node01')).message).toBe('node01 is not a worker of the lab (its workers: kv-worker-0, kv-worker-1, kv-worker-2)');
    const hostText = seed('existing');
    expect(refused(() => withWorker(hostText, parseLabYaml(hostText), { name: 'k8s-w3' })).message).toContain('--ip: the address of k8s-w3 is needed');
  });
});
