/**
 * k8s/apply.sh and the Gateway API's safe-upgrades ValidatingAdmissionPolicy (v1.5+ install it;
 * it refuses CRDs older than those installed): a cluster that got a newer bundle than the pinned
 * one loses the policy before the pinned CRDs go in; one at the pinned version, or without the
 * CRDs, keeps it. apply.sh runs as it is, against the kubectl stand-in (test/up/standins.ts: no
 * cluster here), which answers the installed bundle's annotation.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UPSTREAM } from '../../generator/plan/support/versions.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { adminConf, type StandInBed, standInBed } from './standins.js';
import { generatedLabDir } from './support.js';

const POLICY = 'safe-upgrades.gateway.networking.k8s.io';

describeE2e('k8s/apply.sh and the Gateway API safe-upgrades policy (stand-in: kubectl)', { commands: ['bash', 'sort'] }, () => {
  let lab: { dir: string; labFile: string };
  let bed: StandInBed;
  beforeAll(async () => {
    lab = await generatedLabDir('rpi-slurm', { cluster: { provider: 'libvirt' } });
    bed = standInBed({ admin: adminConf('homelab', 'https://api.home.lab:6443'), only: ['kubectl'] });
    writeFileSync(join(bed.dir, 'admin.kubeconfig'), adminConf('homelab', 'https://api.home.lab:6443'), { mode: 0o600 });
  }, 60_000);
  afterAll(() => {
    bed?.cleanup();
    if (lab) removeDir(lab.dir);
  });

  /** apply.sh with the bundle `installed` (none: no Gateway API CRDs); the kubectl calls it made. */
  const apply = (installed?: string) => {
    if (installed) writeFileSync(join(bed.dir, 'gateway-api'), installed);
    else writeFileSync(join(bed.dir, 'gateway-api'), '');
    bed.clearCalls();
    const r = spawnSync('bash', [join(lab.dir, 'k8s', 'apply.sh')], { env: { ...process.env, ...bed.env, KUBECONFIG: join(bed.dir, 'admin.kubeconfig') }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return { calls: bed.kubectlCalls().map((c) => c.split(' KUBECONFIG=')[0]!), out: r.stdout };
  };
  const pinned = UPSTREAM.gatewayApi.version;

  it('a newer bundle installed: the policy and its binding deleted, then the pinned CRDs applied', () => {
    const { calls, out } = apply('v1.6.1');
    expect(out).toContain(`Gateway API v1.6.1 is installed, newer than ${pinned}: removing its safe-upgrades policy`);
    const del = calls.indexOf(`kubectl delete validatingadmissionpolicy ${POLICY} --ignore-not-found`);
    expect(calls).toContain(`kubectl delete validatingadmissionpolicybinding ${POLICY} --ignore-not-found`);
    expect(del).toBeGreaterThan(-1);
    expect(del).toBeLessThan(calls.indexOf(`kubectl apply --server-side --force-conflicts -f ${UPSTREAM.gatewayApi.manifest}`));
  });

  it('the pinned bundle, an older one, or none: the policy stays', () => {
    for (const installed of [pinned, 'v1.4.0', undefined]) {
      const { calls } = apply(installed);
      expect(calls.filter((c) => c.includes(POLICY)), String(installed)).toEqual([]);
      expect(calls).toContain(`kubectl apply --server-side --force-conflicts -f ${UPSTREAM.gatewayApi.manifest}`);
    }
  });
});
