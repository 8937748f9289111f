import type { Lab } from '../../model/defaults.js';

/**
 * The lab's NFS exports, the one list every side reads: the storage Pi's /etc/exports and
 * labgen-prepare-disk (pi/storage.ts), the Kubernetes storage classes and volumes (k8s/).
 */

/** Where the exports are mounted on the storage Pi. */
export const NFS_ROOT = '/srv/nfs';

export interface NfsExport {
  /** storage.exports[].name: also the ext4 label and the GPT partition name */
  name: string;
  /** absolute path on the storage Pi, e.g. /srv/nfs/vol1 */
  path: string;
  /** as in lab.yaml: 20G (binary units: M = MiB, G = GiB, T = TiB) */
  size: string;
  /** the Pi with role storage */
  server: { name: string; ip: string };
}

/** The one list of NFS exports: [] when lab.yaml has no storage section. */
export function nfsExports(lab: Lab): NfsExport[] {
  const server = lab.pis.nodes.find((n) => n.roles.includes('storage'));
  if (!lab.storage || !server) return [];
  return lab.storage.exports.map((e) => ({
    name: e.name,
    path: `${NFS_ROOT}/${e.name}`,
    size: e.size,
    server: { name: server.name, ip: server.ip },
  }));
}

/** Things `labgen generate` should say about the storage settings (none for a default lab). */
export function storageWarnings(lab: Lab): string[] {
  if (!lab.storage?.noRootSquash) return [];
  const paths = nfsExports(lab).map((e) => e.path);
  return [
    `storage.noRootSquash: ${paths.join(', ')} ${paths.length === 1 ? 'is' : 'are'} exported with no_root_squash to all of ${lab.network.subnet}, ` +
      `and labgen-prepare-disk makes ${paths.length === 1 ? 'it' : 'them'} world-writable (chmod 777): root on any host of the lab network is root on these files. ` +
      'Leave noRootSquash off unless a client really needs to write as root.',
  ];
}
