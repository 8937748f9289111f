import { MODE } from '../file-spec.js';
import type { ImageFile, ImageIdentity } from './types.js';

/**
 * The rootfs files that give the image the Pi's identity from its first boot on, the same on
 * every release (the first-boot script does what needs the running Pi: its user, its sshd).
 * All root's (0:0).
 */

const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';

/** sudoers.d skips names with a dot; this one sorts after Raspberry Pi OS's (010_pi-nopasswd) and cloud-init's (90-cloud-init-users): the last match wins. */
export const SUDOERS = '/etc/sudoers.d/labgen';

/** systemd drop-in for raspberrypi-sys-mods' key generator (trixie runs it on a first boot; bullseye may). */
export const REGENERATE_DROP_IN = '/etc/systemd/system/regenerate_ssh_host_keys.service.d/labgen.conf';

const header = (id: ImageIdentity) => `# Made by \`labgen image\` for ${id.node} of the ${id.labName} lab.`;
const line = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

function hostKeyFiles(id: ImageIdentity, dir: string): ImageFile[] {
  return [
    { path: `${dir}/ssh_host_ed25519_key`, contents: line(id.hostKey.private), mode: MODE.private, uid: 0, gid: 0, secret: true },
    { path: `${dir}/ssh_host_ed25519_key.pub`, contents: line(id.hostKey.public.trim()), mode: MODE.file, uid: 0, gid: 0 },
  ];
}

/** Not while the pinned key is there: it would replace it with new keys labgen never pinned. */
function regenerateDropIn(id: ImageIdentity): ImageFile {
  const contents = [
    header(id),
    '# The image holds this Pi\'s SSH host key, pinned in labgen\'s known_hosts: no new keys in its place.',
    '[Unit]',
    `ConditionPathExists=!${HOST_KEY}`,
    '',
  ].join('\n');
  return { path: REGENERATE_DROP_IN, contents, mode: MODE.file, uid: 0, gid: 0 };
}

/** labgen push runs everything as root through `sudo -n`: no password asked (the user has none). */
function sudoers(id: ImageIdentity): ImageFile {
  const contents = [header(id), '# labgen push runs its commands as root with `sudo -n`.', `${id.user} ALL=(ALL) NOPASSWD: ALL`, ''].join('\n');
  return { path: SUDOERS, contents, mode: 0o440, uid: 0, gid: 0 };
}

export function identityFiles(id: ImageIdentity, stash: string): ImageFile[] {
  return [
    { path: '/etc/hostname', contents: `${id.hostname}\n`, mode: MODE.file, uid: 0, gid: 0 },
    // where sshd reads it (a release that replaces keys on its first boot gets it again from the stash)
    ...hostKeyFiles(id, '/etc/ssh'),
    ...hostKeyFiles(id, stash),
    regenerateDropIn(id),
    ...(id.user === 'root' ? [] : [sudoers(id)]),
  ];
}
