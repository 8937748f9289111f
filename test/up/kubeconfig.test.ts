/**
 * The admin kubeconfig, and merging it into the user's kubeconfig (labgen up --merge-kubeconfig),
 * each result read by the real kubectl (`kubectl config view`, `get-contexts`, `current-context`).
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, expect, it } from 'vitest';
import { ADMIN_KUBECONFIG, adminParts, kubeconfigTarget, mergeKubeconfig, saveAdmin } from '../../drivers/up/kubeconfig.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { adminConf } from './standins.js';

const temps: string[] = [];
afterAll(() => temps.forEach(removeDir));
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'labgen-kubeconfig-'));
  temps.push(d);
  return d;
};
const mode = (f: string) => statSync(f).mode & 0o777;
const ADMIN = adminConf('homelab', 'https://api.home.lab:6443');

function kubectl(file: string, args: string[]): string {
  const r = spawnSync('kubectl', ['config', ...args, '--kubeconfig', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl config ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const contexts = (file: string) => kubectl(file, ['get-contexts', '-o', 'name']).split('\n').filter(Boolean).sort();
const view = (file: string, context: string) => JSON.parse(kubectl(file, ['view', '--raw', '--minify', '--context', context, '-o', 'json'])) as {
  clusters: { name: string; cluster: Record<string, string> }[];
  users: { name: string; user: Record<string, string> }[];
  contexts: { name: string; context: Record<string, string> }[];
};

describeE2e('the admin kubeconfig and --merge-kubeconfig, read by the real kubectl', { commands: ['kubectl'] }, () => {
  it('a new ~/.kube/config: created 0600 (its folder 0700) with the lab as cluster, user and context, current', () => {
    const home = temp();
    const file = join(home, '.kube', 'config');
    expect(mergeKubeconfig(file, ADMIN, 'homelab')).toEqual({ file, created: true });
    expect(mode(file)).toBe(0o600);
    expect(mode(join(home, '.kube'))).toBe(0o700);
    expect(contexts(file)).toEqual(['homelab']);
    expect(kubectl(file, ['current-context']).trim()).toBe('homelab');
    const v = view(file, 'homelab');
    expect(v.clusters[0]).toEqual({ name: 'homelab', cluster: { server: 'https://api.home.lab:6443', 'certificate-authority-data': Buffer.from('stand-in cluster CA').toString('base64') } });
    expect(v.users[0]!.name).toBe('homelab');
    expect(v.users[0]!.user['client-certificate-data']).toBe(Buffer.from('stand-in admin certificate').toString('base64'));
    expect(v.contexts[0]!.context).toEqual({ cluster: 'homelab', user: 'homelab' });
  });

  it("an existing kubeconfig: the lab's entries replaced, every other one and the current context as they were, YAML 1.1 words kept strings", () => {
    const dir = temp();
    const file = join(dir, 'config');
    const other = yaml.load(adminConf('work', 'https://k8s.example.test:6443')) as Record<string, unknown[]> & { 'current-context': string };
    const stale = yaml.load(adminConf('old', 'https://10.9.9.9:6443')) as Record<string, { name: string }[]>;
    for (const k of ['clusters', 'users', 'contexts'] as const) {
      other[k]!.push({ ...stale[k]![0]!, name: 'homelab' });
      // a name kubectl (YAML 1.1) would read as a boolean unless it is quoted
      other[k]!.push({ ...stale[k]![0]!, name: 'on' });
    }
    (other.contexts as { context: { cluster: string; user: string } }[]).at(-1)!.context = { cluster: 'on', user: 'on' };
    writeFileSync(file, yaml.dump(other), { mode: 0o600 });
    const before = view(file, 'kubernetes-admin@work');
    expect(contexts(file)).toEqual(['homelab', 'kubernetes-admin@work', 'on']);

    expect(mergeKubeconfig(file, ADMIN, 'homelab')).toEqual({ file, created: false });
    expect(contexts(file)).toEqual(['homelab', 'kubernetes-admin@work', 'on']);
    expect(view(file, 'kubernetes-admin@work')).toEqual(before);
    expect(view(file, 'homelab').clusters[0]!.cluster.server).toBe('https://api.home.lab:6443');
    expect(view(file, 'on').clusters[0]!.cluster.server).toBe('https://10.9.9.9:6443');
    expect(kubectl(file, ['current-context']).trim()).toBe('kubernetes-admin@work');
    const doc = yaml.load(readFileSync(file, 'utf8')) as Record<string, { name: string }[]>;
    for (const k of ['clusters', 'users', 'contexts']) expect(doc[k]!.filter((e) => e.name === 'homelab'), k).toHaveLength(1);
    // merged again: the same file
    const text = readFileSync(file, 'utf8');
    mergeKubeconfig(file, ADMIN, 'homelab');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a loose mode is made 0600 (and said); a symbolic link stays one, its target merged', () => {
    const dir = temp();
    mkdirSync(join(dir, 'dotfiles'));
    mkdirSync(join(dir, '.kube'));
    const target = join(dir, 'dotfiles', 'kubeconfig');
    writeFileSync(target, adminConf('work', 'https://k8s.example.test:6443'), { mode: 0o644 });
    const link = join(dir, '.kube', 'config');
    symlinkSync('../dotfiles/kubeconfig', link);
    expect(mergeKubeconfig(link, ADMIN, 'homelab')).toEqual({ file: target, created: false, modeWas: 0o644 });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('../dotfiles/kubeconfig');
    expect(mode(target)).toBe(0o600);
    expect(contexts(link)).toEqual(['homelab', 'kubernetes-admin@work']);
  });

  it('a kubeconfig that is not one is refused (exit 2) and left as it was', () => {
    const dir = temp();
    for (const [text, why] of [
      ['clusters: [unclosed', /not YAML/],
      ['- a list', /not a mapping/],
      ['clusters: {a: 1}', /clusters is not a list/],
    ] as const) {
      const file = join(dir, 'config');
      writeFileSync(file, text, { mode: 0o600 });
      let err: unknown;
      try {
        mergeKubeconfig(file, ADMIN, 'homelab');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LabgenError);
      expect((err as LabgenError).code).toBe(EXIT.badInput);
      expect((err as LabgenError).message).toMatch(new RegExp(`^${file}: `));
      expect((err as LabgenError).message).toMatch(why);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('which file: $KUBECONFIG as kubectl picks one for a new entry (its first file that exists, else its last), else ~/.kube/config', () => {
    const dir = temp();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n));
    writeFileSync(b!, '');
    expect(kubeconfigTarget({ KUBECONFIG: [a, b, c].join(delimiter), HOME: dir })).toBe(b);
    expect(kubeconfigTarget({ KUBECONFIG: [a, c].join(delimiter), HOME: dir })).toBe(c);
    expect(kubeconfigTarget({ KUBECONFIG: '', HOME: dir })).toBe(join(dir, '.kube', 'config'));
    expect(kubeconfigTarget({ HOME: dir })).toBe(join(dir, '.kube', 'config'));
  });

  it("the admin kubeconfig in the lab folder: 0600 even when the synced folder's copy was not; only an admin kubeconfig", () => {
    const lab = temp();
    const file = join(lab, ADMIN_KUBECONFIG);
    expect(saveAdmin(lab, ADMIN)).toBe(true);
    expect(mode(file)).toBe(0o600);
    expect(mode(join(lab, '.labgen', 'secrets'))).toBe(0o700);
    expect(saveAdmin(lab, ADMIN)).toBe(false);
    writeFileSync(file, ADMIN, { mode: 0o644 }); // as a share (vboxsf) leaves control-plane.sh's copy
    spawnSync('chmod', ['644', file]);
    expect(saveAdmin(lab, ADMIN)).toBe(false);
    expect(mode(file)).toBe(0o600);
    expect(kubectl(file, ['current-context']).trim()).toBe('kubernetes-admin@homelab');
    expect(() => saveAdmin(lab, 'apiVersion: v1\nkind: Config\n')).toThrow(/not an admin kubeconfig/);
    expect(readFileSync(file, 'utf8')).toBe(ADMIN);
    expect(adminParts(ADMIN).cluster).toEqual({ 'certificate-authority-data': Buffer.from('stand-in cluster CA').toString('base64'), server: 'https://api.home.lab:6443' });
  });
});
