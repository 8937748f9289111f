/**
 * Changing one service IP in lab.yaml and regenerating changes only the files that mention it
 * (generate's own decisions from openLabFolder(), real secrets store included): a first generate into
 * a temp lab folder, lab.yaml edited, opened again; every updated file must be one whose old
 * text had the old IP or whose new text has the new one, and the k8s/ files that give the
 * service its address must be among them.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generate } from '../../generator/cli/generate.js';
import { openLabFolder } from '../../generator/lab-folder/open.js';
import { editFile, labDirFrom, removeDir } from '../support/tree.js';

const dirs: string[] = [];
afterEach(() => {
  dirs.splice(0).forEach(removeDir);
  vi.restoreAllMocks();
});

/** Matches the address itself, not a longer one that starts with it (10.0.0.3 vs 10.0.0.31). */
const mentions = (text: string, ip: string) => new RegExp(`(?<![\\d.])${ip.replace(/\./g, '\\.')}(?![\\d])`).test(text);

const CASES = [
  { what: 'services.monitoring.grafana', from: 'grafana: 10.0.0.31', to: 'grafana: 10.0.0.35', oldIp: '10.0.0.31', newIp: '10.0.0.35', k8s: ['k8s/gateway/services.yaml', 'k8s/coredns/db.home.lab'] },
  { what: 'slurm.ip', from: 'ip: 10.0.0.28 ', to: 'ip: 10.0.0.36 ', oldIp: '10.0.0.28', newIp: '10.0.0.36', k8s: ['k8s/slurm/slurmctld.yaml', 'k8s/coredns/db.home.lab'] },
  { what: 'services.registry.ip', from: 'registry: { ip: 10.0.0.10,', to: 'registry: { ip: 10.0.0.37,', oldIp: '10.0.0.10', newIp: '10.0.0.37', k8s: ['k8s/registry/registry.yaml'] },
];

describe('regenerate after one service IP changes', () => {
  it.each(CASES)('$what: only the files that mention the IP are updated', async (c) => {
    const dir = labDirFrom('rpi-slurm');
    dirs.push(dir);
    const file = join(dir, 'lab.yaml');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await generate({ lab: file });
    const before = new Map(openLabFolder(file).decisions.map((d) => [d.path, d.current ?? '']));

    editFile(dir, 'lab.yaml', (s) => {
      expect(s).toContain(c.from);
      return s.replace(c.from, c.to);
    });
    const after = openLabFolder(file).decisions;

    expect(after.filter((d) => d.action === 'conflict' || d.action === 'remove' || d.action === 'create')).toEqual([]);
    const updated = after.filter((d) => d.action === 'update').map((d) => d.path).sort();
    const expected = after
      .filter((d) => mentions(before.get(d.path) ?? '', c.oldIp) || mentions(d.spec?.contents ?? '', c.newIp))
      .map((d) => d.path)
      .sort();
    // only files that mention the IP change (a file may mention it and stay: the MetalLB pool
    // 10.0.0.10-10.0.0.49 names the registry's old address as its first one)
    expect(updated.filter((p) => !expected.includes(p))).toEqual([]);
    for (const path of c.k8s) expect(updated).toContain(path);
  });
});
