import type { Lab } from '../../model/defaults.js';
import { MODE } from '../file-spec.js';
import { hasRole, type PiPlanner } from './part.js';
import { shellQuote } from '../../common/quote.js';
import { NFS_ROOT, nfsExports } from '../support/nfs-exports.js';
import { render } from '../support/render.js';

/**
 * The storage Pi (seed 003: node01 with a USB disk, one partition per NFS share): the NFS
 * server with /etc/exports, and labgen-prepare-disk, which partitions and formats the disk.
 * Formatting is an explicit step the user runs once; setup.sh only installs the NFS server and
 * the exports. Everything that names an export (the Kubernetes side too) reads nfsExports()
 * (support/nfs-exports.ts).
 */

export const EXPORTS_FILE = '/etc/exports';
export const PREPARE_DISK = '/usr/local/sbin/labgen-prepare-disk';

/** "20G" → MiB (sizes are binary units, as sfdisk reads them). */
export function sizeMiB(size: string): number {
  const m = /^([1-9]\d*)([MGT])$/.exec(size);
  if (!m) throw new Error(`labgen bug: size ${size} was not validated`);
  return Number(m[1]) * { M: 1, G: 1024, T: 1024 * 1024 }[m[2] as 'M' | 'G' | 'T'];
}

/** One /etc/exports line per export, to the lab subnet only. */
function exportsFile(lab: Lab): string {
  const squash = lab.storage?.noRootSquash ? 'no_root_squash' : 'root_squash';
  return render('pis/rootfs/etc/exports', {
    lab,
    // mp: export only while the disk is mounted, so a missing disk (fstab's nofail) never
    // lets clients write to the SD card underneath
    lines: nfsExports(lab).map((e) => `${e.path} ${lab.network.subnet}(rw,sync,no_subtree_check,mp,${squash})`),
  });
}

/**
 * What labgen-prepare-disk makes of a disk: the storage Pi's NFS exports here; an existing host's
 * data disk in provision/ (vm/provision.ts), from the same template.
 */
export interface DiskUse {
  /** the NFS exports: exportfs after mounting */
  nfs: boolean;
  /** where lab.yaml names the disk, for its messages */
  diskKey: string;
  /** what one partition is called in comments */
  part: string;
  /** user:group of each mounted partition's top folder */
  owner: string;
  /** the name of its block in /etc/fstab (`# BEGIN labgen NAME`) */
  block: string;
  /** bind mounts from folders of the partitions: "SOURCE TARGET" */
  binds: string[];
}

const STORAGE_DISK: DiskUse = { nfs: true, diskKey: 'storage.disk', part: 'export', owner: 'nobody:nogroup', block: 'storage', binds: [] };

export const PREPARE_DISK_TEMPLATE = 'pis/rootfs/usr/local/sbin/labgen-prepare-disk';

function prepareDiskScript(lab: Lab): string {
  const storage = lab.storage!;
  return render(PREPARE_DISK_TEMPLATE, {
    lab,
    disk: storage.disk,
    exports: nfsExports(lab).map((e) => ({ ...e, mib: sizeMiB(e.size) })),
    nfsRoot: NFS_ROOT,
    // root_squash: the export's root belongs to nobody, so squashed root (the NFS provisioner)
    // can create folders in it; no_root_squash: the seed's chmod 777
    rootMode: storage.noRootSquash ? '0777' : '0755',
    use: STORAGE_DISK,
    // the file's own name does not end in .sh: quote explicitly with it.q
    q: shellQuote,
  });
}

export const storage: PiPlanner = (ctx) => {
  if (!hasRole(ctx, 'storage') || !ctx.lab.storage) return {};
  return {
    packages: ['nfs-kernel-server'],
    services: ['nfs-server'],
    files: [
      // TODO: `exportfs -ra` on change is enough (and keeps clients' mounts); setup.sh only
      // knows service restarts for now
      { path: EXPORTS_FILE, mode: MODE.file, restart: ['nfs-server'], contents: exportsFile(ctx.lab) },
      { path: PREPARE_DISK, mode: MODE.script, contents: prepareDiskScript(ctx.lab) },
    ],
  };
};
