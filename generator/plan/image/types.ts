/** The image plan's data (index.ts makes it; drivers/image writes it). */

/** What the image is made for: one Pi of the lab, as `labgen image` reads it from the lab folder. */
export interface ImageIdentity {
  node: string;
  /** the Pi's name in /etc/hostname (its node name; /etc/hosts gives its FQDN) */
  hostname: string;
  /** lab.pis.user: the user labgen push logs in as; `root` is allowed (then no sudoers file) */
  user: string;
  /** OpenSSH public key lines that may log in as the user: the lab key first */
  authorizedKeys: string[];
  /** the Pi's ed25519 host key (OpenSSH text), pinned in .labgen/known_hosts */
  hostKey: { private: string; public: string };
  labName: string;
}

/** One file in the image. */
export interface ImageFile {
  /**
   * boot files: relative to the boot (FAT) partition, e.g. `firstrun.sh`; rootfs files: absolute.
   * A rootfs file's missing parent folders are made 0755 root:root.
   */
  path: string;
  contents: string;
  /** permission bits; on the boot partition (FAT, no permissions) only informative */
  mode: number;
  /** rootfs files: numeric owner (every file the plan places is root's: 0:0) */
  uid?: number;
  gid?: number;
  /** holds a private key: never printed, its temp copies 0600 */
  secret?: boolean;
}

/** A path in the base image's root file system the plan relies on, and why. */
export interface ImageNeed {
  path: string;
  why: string;
}

export interface ImagePlan {
  boot: ImageFile[];
  rootfs: ImageFile[];
  /** the new cmdline.txt from the base image's (one line, words added once; see cmdline.ts) */
  cmdline(current: string): string;
  /** paths that must be in the base image's root file system, or the first boot does nothing */
  needs: ImageNeed[];
}
