import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../generator/model/seed.js';
import { KUBERNETES_MINORS } from '../../generator/model/schema.js';
import { containerdReleases, eolWarning, KUBERNETES_RELEASES, pauseImage, supportedMinors } from '../../generator/plan/support/versions.js';
import { REPO_ROOT } from '../support/generated.js';
import { assertBuilt, labgen } from '../workflow/support.js';

/** Kubernetes releases (issue 13, item 4), the pause image and the containerd releases per minor (item 5). */

const DAY = new Date(2026, 11, 1, 12); // 2026-12-01, local noon

describe('the Kubernetes release table', () => {
  it('has a row for every minor lab.yaml accepts, and no other', () => {
    expect(Object.keys(KUBERNETES_RELEASES).sort()).toEqual([...KUBERNETES_MINORS].sort());
  });

  it('each minor is released before it ends, about 14 months later, and after the one before', () => {
    const rows = KUBERNETES_MINORS.map((m) => KUBERNETES_RELEASES[m]);
    for (const r of rows) {
      expect(r.released < r.endOfLife).toBe(true);
      const months = (Date.parse(r.endOfLife) - Date.parse(r.released)) / (30.44 * 24 * 3600 * 1000);
      expect(months).toBeGreaterThan(13);
      expect(months).toBeLessThan(15);
    }
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.released > rows[i - 1]!.released).toBe(true);
  });

  it('the default Kubernetes is a supported release on 2026-12-01, the newest one', () => {
    expect(supportedMinors(DAY)).toContain(DEFAULTS.cluster.kubernetesVersion);
    expect(supportedMinors(DAY).at(-1)).toBe(DEFAULTS.cluster.kubernetesVersion);
    expect(eolWarning(DEFAULTS.cluster.kubernetesVersion, DAY)).toBeUndefined();
  });

  it('1.34 on 2026-12-01: the warning names its end of life, 2026-10-27, and a supported release', () => {
    const w = eolWarning('1.34', DAY);
    expect(w).toContain('2026-10-27');
    expect(w).toContain('end of life');
    expect(w).toContain('"1.37"');
    expect(eolWarning('1.34.2', DAY)).toContain('2026-10-27');
    expect(eolWarning('1.33', DAY)).toContain('2026-06-28');
  });

  it('no warning for a supported release, and none for 1.34 the day before its end of life', () => {
    for (const v of ['1.35', '1.36', '1.37', '1.37.1']) expect(eolWarning(v, DAY)).toBeUndefined();
    expect(eolWarning('1.34', new Date(2026, 9, 26, 12))).toBeUndefined();
    expect(eolWarning('1.34', new Date(2026, 9, 27, 0, 1))).toContain('2026-10-27');
  });

  it('containerd: per minor one release per containerd line, newest line first, none of 1.6 (end of life); RELEASES.md rows', () => {
    for (const m of KUBERNETES_MINORS) {
      const lines = containerdReleases(m).map((r) => r.split('.').map(Number));
      expect(lines.length, m).toBeGreaterThan(0);
      for (const l of lines) expect(l, m).toHaveLength(3);
      for (let i = 1; i < lines.length; i++) expect(lines[i - 1]![0]! * 1000 + lines[i - 1]![1]! > lines[i]![0]! * 1000 + lines[i]![1]!, m).toBe(true);
      expect(containerdReleases(m).some((r) => r.startsWith('1.6.')), m).toBe(false);
    }
    expect(containerdReleases('1.35')).toEqual(['2.2.0', '2.1.5', '1.7.28']);
    expect(containerdReleases('1.36.2')).toEqual(['2.3.0', '2.2.0']);
  });

  it('the pause image is the tag each kubeadm minor expects', () => {
    expect(pauseImage('1.33')).toBe('registry.k8s.io/pause:3.10');
    expect(pauseImage('1.33.5')).toBe('registry.k8s.io/pause:3.10');
    expect(pauseImage('1.34')).toBe('registry.k8s.io/pause:3.10.1');
    expect(pauseImage('1.35')).toBe('registry.k8s.io/pause:3.10.1');
    expect(pauseImage('1.36')).toBe('registry.k8s.io/pause:3.10.2');
    expect(pauseImage('1.37.1')).toBe('registry.k8s.io/pause:3.10.2');
  });
});

describe('labgen generate on a lab that pins an end-of-life Kubernetes', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function labPinning(version: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'labgen-eol-'));
    dirs.push(dir);
    const file = join(dir, 'lab.yaml');
    copyFileSync(join(REPO_ROOT, 'labs/minimal/lab.yaml'), file);
    const text = readFileSync(file, 'utf8').replace('cluster:\n', `cluster:\n  kubernetesVersion: "${version}"\n`);
    writeFileSync(file, text.replace(/^# yaml-language-server:.*\n/, ''));
    return file;
  }

  it('1.34: warns on stderr with the end-of-life date, writes the lab folder and exits 0', () => {
    assertBuilt();
    const file = labPinning('1.34');
    const r = labgen(['generate', '--lab', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/labgen: warning: .*Kubernetes 1\.34 reached end of life on 2026-10-27/);
    expect(r.stdout).not.toContain('end of life');
    const config = (name: string) => readFileSync(join(file, '..', 'provision/files/etc/containerd', name), 'utf8');
    expect(config('config-v3.toml')).toContain("sandbox = 'registry.k8s.io/pause:3.10.1'");
    // a containerd 1.7 fits 1.34 (1.7.28+): its config format is there too
    expect(config('config-v2.toml')).toContain('sandbox_image = "registry.k8s.io/pause:3.10.1"');
  });

  it('the default release: no end-of-life warning', () => {
    assertBuilt();
    const file = labPinning(DEFAULTS.cluster.kubernetesVersion);
    const r = labgen(['generate', '--lab', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('end of life');
  });
});
