import type { FileSpec } from '../file-spec.js';
import { MODE } from '../file-spec.js';
import { PI_STAGE, type PiFacts, type PiOs } from '../pi/part.js';
import { CGROUP_MEMORY, editCmdline, firstrunWords, noCloudWord } from './cmdline.js';
import { firstrunScript } from './firstrun.js';
import { metaData } from './meta-data.js';
import { userData } from './user-data.js';
import { identityFiles } from './identity.js';
import type { ImageFile, ImageIdentity, ImagePlan } from './types.js';

/**
 * What `labgen image` puts into one Pi's copy of a stock Raspberry Pi OS image so that it boots
 * straight into its lab identity: pure data, per release; drivers/image writes the bytes.
 *
 * Every release runs the same first-boot script (firstrun.sh, templates/image/): it installs the
 * pinned host key, makes the lab user (key-only, passwordless sudo) and enables sshd. What starts
 * it is the release's own first-boot mechanism:
 *   - bullseye, bookworm: the kernel command line (systemd.run), Raspberry Pi Imager's "systemd"
 *     format. It runs after Raspberry Pi OS's own first boot (raspberrypi-sys-mods' firstboot,
 *     init= on the command line), which resizes the root file system and replaces the SSH host
 *     keys with new ones: so the pinned key is installed again from a copy the image keeps;
 *   - trixie: cloud-init (NoCloud seed on the boot partition: user-data, meta-data,
 *     network-config), whose runcmd starts the script.
 * The rootfs also holds, from the start, the Pi's first-boot files (its address, names and apt
 * proxy: the parts flagged `firstBoot`), its name and its host key; the first push does the rest.
 */

export type { ImageFile, ImageIdentity, ImageNeed, ImagePlan } from './types.js';

/** How a release starts labgen's first-boot script, and where its boot partition is mounted. */
interface Release {
  start: 'systemd.run' | 'cloud-init';
  bootMount: string;
}

const RELEASES: Record<PiOs, Release> = {
  bullseye: { start: 'systemd.run', bootMount: '/boot' },
  bookworm: { start: 'systemd.run', bootMount: '/boot/firmware' },
  trixie: { start: 'cloud-init', bootMount: '/boot/firmware' },
};

/** Where the image keeps the Pi's host key until the first-boot script installs it (then removed). */
export const FIRST_BOOT_STASH = `${PI_STAGE.dir}/first-boot`;

/** The first-boot script's name on the boot partition (Raspberry Pi Imager's). */
export const FIRSTRUN = 'firstrun.sh';

/** cloud-init's instance of this Pi: the same for every image of it (name-safe: lab and node names are RFC 1123 labels). */
export const instanceId = (id: ImageIdentity) => `labgen-${id.labName}-${id.node}`;

/** `root:root` → 0:0. Only root's files go into an image: its users and groups are known once it boots. */
function ownerIds(spec: FileSpec): { uid: number; gid: number } {
  const owner = spec.target?.owner ?? 'root:root';
  if (owner !== 'root:root')
    throw new Error(`labgen bug: ${spec.path} is owned by ${owner} and flagged firstBoot; an image holds only root's files (push places the others)`);
  return { uid: 0, gid: 0 };
}

/** The Pi's files from the lab folder that go into the image: rootfs ones flagged firstBoot, every boot one. */
function piImageFiles(facts: PiFacts, piFiles: FileSpec[]): { rootfs: ImageFile[]; boot: ImageFile[] } {
  const mine = (dir: string) => piFiles.filter((f) => f.host === facts.node && f.target && f.path.startsWith(`pis/${facts.node}/${dir}/`));
  const rootfs = mine('rootfs')
    .filter((f) => facts.firstBootFiles.includes(f.target!.path))
    .map((f) => ({ path: f.target!.path, contents: f.contents, mode: f.mode, ...ownerIds(f) }));
  const boot = mine('boot').map((f) => ({ path: f.target!.path.replace(/^\//, ''), contents: f.contents, mode: f.mode }));
  return { rootfs, boot };
}

const byPath = (a: ImageFile, b: ImageFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The image plan of one Pi: deterministic (same inputs, same bytes); private keys only in `secret` files. */
export function imagePlan(facts: PiFacts, id: ImageIdentity, piFiles: FileSpec[]): ImagePlan {
  const release = RELEASES[facts.os];
  const script = `${release.bootMount}/${FIRSTRUN}`;
  const systemdRun = release.start === 'systemd.run';
  const pi = piImageFiles(facts, piFiles);
  const firstrun: ImageFile = {
    path: FIRSTRUN,
    mode: MODE.script,
    contents: firstrunScript({ id, os: facts.os, script, stash: FIRST_BOOT_STASH, cmdline: systemdRun ? `${release.bootMount}/cmdline.txt` : undefined }),
  };
  const seed: ImageFile[] = systemdRun
    ? []
    : [
        { path: 'user-data', mode: MODE.file, contents: userData({ id, os: facts.os, script }) },
        { path: 'meta-data', mode: MODE.file, contents: metaData({ id, instanceId: instanceId(id) }) },
      ];
  const words = systemdRun ? [CGROUP_MEMORY, ...firstrunWords(script)] : [CGROUP_MEMORY, noCloudWord(instanceId(id))];
  const rootfs = [...pi.rootfs, ...identityFiles(id, FIRST_BOOT_STASH)];
  const dup = rootfs.find((f, i) => rootfs.findIndex((g) => g.path === f.path) !== i);
  if (dup) throw new Error(`labgen bug: the image plan places ${dup.path} twice`);
  return {
    boot: [firstrun, ...seed, ...pi.boot].sort(byPath),
    rootfs: rootfs.sort(byPath),
    cmdline: (current) => editCmdline(current, words),
    needs: systemdRun ? [] : [{ path: '/usr/bin/cloud-init', why: 'Raspberry Pi OS trixie starts the first-boot script through cloud-init' }],
  };
}
