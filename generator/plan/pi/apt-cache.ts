import type { Lab } from '../../model/defaults.js';
import { MODE } from '../file-spec.js';
import { hasRole, type PiNode, type PiPlanner } from './part.js';
import { render } from '../support/render.js';

/**
 * The lab's apt cache (seed 003: apt-cacher-ng on node01, `02proxy` on the other Pis). The Pi
 * with role aptcache runs apt-cacher-ng with a drop-in that lets HTTPS repositories through
 * (otherwise apt's CONNECT to :443 gets "403 CONNECT denied"); every other Pi sends apt's
 * requests to it by name. No aptcache Pi: nothing.
 */

export const APT_CACHE_PORT = 3142;

/** Where apt-cacher-ng reads its drop-ins (all *.conf, in name order). */
// read last (after Debian's zz_debconf.conf), so labgen's settings are the ones in force
export const APT_CACHE_CONF = '/etc/apt-cacher-ng/zzz-labgen.conf';
export const APT_PROXY_CONF = '/etc/apt/apt.conf.d/02proxy';

/**
 * CONNECT targets apt-cacher-ng tunnels (a POSIX extended regex over "host:port"): any host, on
 * the HTTPS port only, so the cache is not an open relay to other ports. Tunnelled traffic is
 * encrypted and therefore not cached.
 */
export const PASS_THROUGH_PATTERN = '^[^:]+:443$';

/** The Pi with role aptcache (the rules allow at most one). */
export function aptCacheNode(lab: Lab): PiNode | undefined {
  return lab.pis.nodes.find((n) => n.roles.includes('aptcache'));
}

/** `http://node01.home.lab:3142`: apt's proxy URL, by name (the lab's hosts file resolves it). */
export function aptProxyUrl(lab: Lab): string | undefined {
  const cache = aptCacheNode(lab);
  return cache && `http://${cache.name}.${lab.domain}:${APT_CACHE_PORT}`;
}

export const aptCache: PiPlanner = (ctx) => {
  const cache = aptCacheNode(ctx.lab);
  if (!cache) return {};
  if (hasRole(ctx, 'aptcache'))
    return {
      packages: ['apt-cacher-ng'],
      services: ['apt-cacher-ng'],
      files: [
        {
          path: APT_CACHE_CONF,
          mode: MODE.file,
          restart: ['apt-cacher-ng'],
          contents: render('pis/rootfs/etc/apt-cacher-ng/zzz-labgen.conf', {
            lab: ctx.lab,
            port: APT_CACHE_PORT,
            passThrough: PASS_THROUGH_PATTERN,
          }),
        },
      ],
    };
  return {
    // in the image too: apt on a fresh Pi goes through the lab's cache from the first push on
    // (the cache Pi's own apt-cacher-ng.conf is not: the package comes with that push)
    firstBoot: true,
    files: [
      {
        path: APT_PROXY_CONF,
        mode: MODE.file,
        contents: render('pis/rootfs/etc/apt/apt.conf.d/02proxy', { cache: cache.name, url: aptProxyUrl(ctx.lab) }),
      },
    ],
  };
};
