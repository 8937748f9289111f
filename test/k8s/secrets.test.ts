/**
 * `kubectl kustomize k8s/` on a freshly generated lab (issue 10, bug 7): the real `labgen
 * generate` (real secrets store) into a temp folder, then the real kubectl with no flags; the
 * secrets' copies in k8s/<folder>/secrets/ are 0600, git-ignored (real git), the Secrets built
 * from them hold exactly the bytes of .labgen/secrets/, and `generate --dry-run` never prints
 * them. (`kubectl apply -k` builds with the same kustomize, but needs an API server even with
 * --dry-run=client: the build is the check here.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { isSecretPath, SECRET } from '../../generator/secrets/paths.js';
import { REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { assertBuilt, labgen } from '../workflow/support.js';
import type { K8sObject } from './support.js';
import { SECRETS_DIR } from '../../generator/common/layout.js';

let root = '';
let dir = '';
let file = '';

/** Every regular file under `base`, relative, "/"-separated. */
function filesUnder(base: string, rel = ''): string[] {
  return readdirSync(join(base, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(base, p) : e.isFile() ? [p] : [];
  });
}

const secret = (name: string) => readFileSync(join(dir, SECRETS_DIR, name));

/** The values that must never be printed: the raw secrets, and what kustomize or labgen make of them. */
function secretValues(): string[] {
  const password = secret(SECRET.registryPassword).toString();
  return [
    password,
    Buffer.from(password).toString('base64'),
    Buffer.from(`admin:${password}`).toString('base64'),
    secret(SECRET.registryHtpasswd).toString().trim(),
    secret(SECRET.grafanaAdminPassword).toString(),
    secret(SECRET.mungeKey).toString('base64').slice(0, 60),
  ];
}

function kustomize(target: string): { code: number; out: string; err: string } {
  const r = spawnSync('kubectl', ['kustomize', target], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describeE2e('kubectl kustomize k8s/ on a freshly generated lab, no flags', { commands: ['kubectl', 'git'] }, () => {
  beforeAll(() => {
    assertBuilt();
    root = mkdtempSync(join(tmpdir(), 'labgen-k8s-secrets-'));
    dir = join(root, 'homelab');
    file = join(dir, 'lab.yaml');
    mkdirSync(dir);
    cpSync(join(REPO_ROOT, 'labs/rpi-slurm/lab.yaml'), file);
    const r = labgen(['generate', '--lab', file]);
    expect(r.code, r.stderr).toBe(EXIT.ok);
  });
  afterAll(() => removeDir(root));

  it('builds, the whole tree and each folder on its own; the Secrets hold the bytes of .labgen/secrets/', () => {
    const all = kustomize('k8s/');
    expect(all.err).toBe('');
    expect(all.code).toBe(0);
    // each folder, and each of k8s/checks/ (a folder of kustomizations that `labgen check` applies)
    const folders = (rel: string) => readdirSync(join(dir, rel), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${rel}/${e.name}`);
    const each = folders('k8s').flatMap((f) => (f === 'k8s/checks' ? folders(f) : [f]));
    expect(each).toContain('k8s/checks/multicast');
    for (const f of each) {
      const one = kustomize(f);
      expect([f, one.code, one.err]).toEqual([f, 0, '']);
    }
    const objects = (yaml.loadAll(all.out) as K8sObject[]).filter(Boolean);
    const data = (prefix: string) => {
      const s = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith(prefix))!;
      expect(s, prefix).toBeDefined();
      return Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v.replace(/\s/g, ''), 'base64')]));
    };
    // the binary munge key byte for byte (the Pis' key), the rest as one line each
    expect(data('munge-key')['munge.key']!.equals(secret(SECRET.mungeKey))).toBe(true);
    expect(data('registry-auth-').password!.equals(secret(SECRET.registryPassword))).toBe(true);
    expect(data('registry-auth-').htpasswd!.toString()).toBe(secret(SECRET.registryHtpasswd).toString().trim());
    expect(data('grafana-admin-')['admin-password']!.equals(secret(SECRET.grafanaAdminPassword))).toBe(true);
    expect(data('sftp-authorized-keys-').authorized_keys!.toString()).toBe(secret(SECRET.sshPublicKey).toString().trim());
    const pull = JSON.parse(data('lab-registry-')['.dockerconfigjson']!.toString());
    expect(Buffer.from(pull.auths['registry.home.lab'].auth, 'base64').toString()).toBe(`admin:${secret(SECRET.registryPassword)}`);
    const pullSecret = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('lab-registry-'))!;
    expect(pullSecret.type).toBe('kubernetes.io/dockerconfigjson');
  });

  it('the copies are 0600 and git-ignored (real git: check-ignore, and `git add -A` leaves them out)', () => {
    const copies = filesUnder(dir).filter((p) => isSecretPath(p) && p.startsWith('k8s/'));
    expect(copies.length).toBe(5);
    for (const p of copies) expect([p, statSync(join(dir, p)).mode & 0o777]).toEqual([p, 0o600]);

    const repo = join(root, 'git-copy');
    cpSync(dir, repo, { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
    git('init', '-q');
    for (const p of [...copies, ...filesUnder(repo).filter((x) => x.startsWith(`${SECRETS_DIR}/`))]) expect(git('check-ignore', p).trim()).toBe(p);
    git('add', '-A');
    const tracked = git('ls-files').split('\n');
    expect(tracked).toContain('k8s/slurm/kustomization.yaml');
    expect(tracked.filter((p) => p.includes('/secrets/'))).toEqual([]);
  });

  it('generate --dry-run never prints a secret: a copy to create or update is named, its contents not shown', () => {
    const values = secretValues();
    // the copies are gone (as in a fresh checkout with .labgen/secrets/ restored): all to create
    for (const d of ['monitoring', 'registry', 'sftp', 'slurm']) rmSync(join(dir, 'k8s', d, 'secrets'), { recursive: true });
    const created = labgen(['generate', '--dry-run', '--lab', file]);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    expect(created.stdout).toContain('create k8s/slurm/secrets/munge-key.yaml: secret, its contents are not shown');
    expect(created.stdout).toContain('create k8s/registry/secrets/registry-auth.env: secret, its contents are not shown');
    expect(created.stdout).toContain('+++ b/k8s/slurm/secrets/.gitignore'); // not a secret: its diff is shown
    for (const v of values) expect(created.stdout + created.stderr).not.toContain(v);
    expect(labgen(['generate', '--lab', file]).code).toBe(EXIT.ok);

    // a lab.yaml change that changes a secret's copy (the pull secret names the registry host), and a hand edit
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^domain: .*$/m, 'domain: other.lab'));
    const grafana = join(dir, 'k8s/monitoring/secrets/grafana-admin.env');
    writeFileSync(grafana, `${readFileSync(grafana, 'utf8')}# edited by hand\n`);
    const updated = labgen(['generate', '--dry-run', '--lab', file]);
    expect(updated.code, updated.stderr).toBe(EXIT.ok);
    expect(updated.stdout).toContain('update k8s/slurm/secrets/lab-registry.env: secret, its contents are not shown');
    expect(updated.stdout).toContain('conflict k8s/monitoring/secrets/grafana-admin.env: secret, its contents are not shown');
    for (const v of values) expect(updated.stdout + updated.stderr).not.toContain(v);
  });
});
