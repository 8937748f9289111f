import { EXIT, LabgenError } from '../../generator/errors.js';
import { onPath } from '../base/path.js';

/**
 * The programs `labgen image` edits an image with, none of which needs root: mtools for the FAT
 * boot partition (fsck-clean where npm's fatfs corrupted FAT32), debugfs for the ext4 root, xz
 * for a compressed base, cp for a sparse, reflinked copy. Each with the Debian package it is in.
 */
export const TOOLS = {
  mcopy: 'mtools',
  mdir: 'mtools',
  mmd: 'mtools',
  debugfs: 'e2fsprogs',
  xz: 'xz-utils',
  cp: 'coreutils',
  blockdev: 'util-linux',
} as const;

export type Tool = keyof typeof TOOLS;


/** Stop before anything is made when a program is missing, naming it and its package. */
export function requireTools(tools: readonly Tool[]): void {
  const missing = tools.filter((t) => !onPath(t));
  if (!missing.length) return;
  const packages = [...new Set(missing.map((t) => TOOLS[t]))];
  throw new LabgenError(EXIT.failure, `labgen image needs ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed; no image was made`, {
    hint: `install ${packages.length > 1 ? 'the packages' : 'the package'} ${packages.join(', ')} (Debian, Ubuntu, Raspberry Pi OS: sudo apt-get install ${packages.join(' ')})`,
  });
}
