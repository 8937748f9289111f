/**
 * Addresses and images of the built k8s/ (real `kubectl kustomize` output):
 * - every service IP of lab.yaml (serviceAddresses: services.* and slurm.ip) is the
 *   LoadBalancer IP of exactly one Service, no Service asks for an IP lab.yaml does not give,
 *   and no two Services share one;
 * - every image is pinned: a tag that is not `latest` (the Dockerfile's FROM too).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { serviceAddresses } from '../../generator/model/hosts.js';
import { UPSTREAM } from '../../generator/plan/support/versions.js';
import { describeE2e } from '../support/prereq.js';
import { builtLabCache, images, K8S_LABS, loadBalancers } from './support.js';

const cache = builtLabCache();
afterAll(() => cache.cleanupAll());

/** name:tag (registry host with a port allowed); a digest-only reference has no tag. */
function tagOf(image: string): string | undefined {
  const last = image.split('/').pop()!;
  const at = last.indexOf('@');
  const name = at === -1 ? last : last.slice(0, at);
  const colon = name.indexOf(':');
  return colon === -1 ? undefined : name.slice(colon + 1);
}

describe('image pins', () => {
  it('every image in versions.ts has a version tag', () => {
    const all = [...Object.values(UPSTREAM.images), ...Object.values(UPSTREAM.debianImage)];
    for (const image of all) {
      const tag = tagOf(image);
      expect(tag, image).toBeDefined();
      expect(tag, image).not.toBe('latest');
      expect(tag, image).toMatch(/\d/);
    }
  });

  it('every upstream manifest URL is pinned to its version', () => {
    for (const u of [UPSTREAM.metallb, UPSTREAM.gatewayApi, UPSTREAM.certManager]) expect(u.manifest).toContain(`/${u.version}/`);
  });
});

describeE2e('LoadBalancer IPs and images of k8s/', { commands: ['kubectl'] }, () => {
  describe.each(K8S_LABS)('$name', ({ file, overrides }) => {
    it('each service IP of lab.yaml is exactly one LoadBalancer IP; none is shared or unknown', async () => {
      const { lab, objects } = await cache.get(file, overrides);
      const lbs = loadBalancers(objects);
      for (const lb of lbs) expect(lb.ips, `${lb.name} asks for exactly one IP`).toHaveLength(1);
      const taken = lbs.map((lb) => lb.ips[0]!);
      expect(new Set(taken).size, `no two Services share an IP: ${taken.join(', ')}`).toBe(taken.length);
      const wanted = serviceAddresses(lab.lab).map((a) => a.ip);
      expect([...taken].sort()).toEqual([...wanted].sort());
    });

    it('every container image has a pinned tag, never latest', async () => {
      const { lab, objects } = await cache.get(file, overrides);
      const all = images(objects);
      expect(all.length).toBeGreaterThan(0);
      for (const { where, image } of all) {
        const tag = tagOf(image);
        expect(tag, `${where}: ${image}`).toBeDefined();
        expect(tag, `${where}: ${image}`).not.toBe('latest');
      }
      for (const f of lab.matching(/^k8s\/.*Dockerfile$/))
        for (const m of f.contents.matchAll(/^FROM\s+(\S+)/gm)) expect(tagOf(m[1]!), `${f.path}: ${m[1]}`).toMatch(/^\d/);
    });
  });
});
