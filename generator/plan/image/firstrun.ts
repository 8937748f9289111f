import type { PiOs } from '../pi/part.js';
import { render } from '../support/render.js';
import { firstrunWords } from './cmdline.js';
import type { ImageIdentity } from './types.js';

/**
 * firstrun.sh on the image's boot partition: the first-boot script of every release (see
 * index.ts for what starts it). Only public keys are in it: the FAT partition is readable by
 * every local user of the Pi; the private host key comes from the rootfs copy (`stash`).
 */

/** `s` as a literal in a sed regular expression whose delimiter is `#`. */
const sedLiteral = (s: string) => s.replace(/[\\.*^$[\]#]/g, '\\$&');

/**
 * sed scripts that take `words` off the command line: each word with the blank before it, only
 * where it ends at a blank or the line's end (a longer word is not cut), a CR kept.
 */
export const sedRemoving = (words: string[]) => words.map((w) => `s# ${sedLiteral(w)}\\([[:space:]]\\|$\\)#\\1#`);

export interface FirstrunInput {
  id: ImageIdentity;
  os: PiOs;
  /** the script's own path on the Pi */
  script: string;
  /** where the image keeps the host key for it */
  stash: string;
  /** cmdline.txt on the Pi, for a release that starts the script from there (systemd.run) */
  cmdline?: string;
}

export function firstrunScript({ id, os, script, stash, cmdline }: FirstrunInput): string {
  return render('image/firstrun.sh', {
    node: id.node,
    lab: id.labName,
    os,
    user: id.user,
    script,
    stash,
    cmdline,
    sedScripts: cmdline ? sedRemoving(firstrunWords(script)) : [],
    hostKeyPublic: id.hostKey.public.trim(),
    authorizedKeys: id.authorizedKeys.map((k) => k.trim()),
  });
}
