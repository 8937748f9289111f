import type { PiOs } from '../pi/part.js';
import { render } from '../support/render.js';
import type { ImageIdentity } from './types.js';

/**
 * cloud-init's user-data (trixie): keep hands off the hostname, /etc/hosts and the host keys
 * labgen placed, make no default user, run the first-boot script once. Only public data: it
 * stays on the FAT partition (readable by every local user) for as long as the Pi runs.
 */
export function userData({ id, os, script }: { id: ImageIdentity; os: PiOs; script: string }): string {
  return render('image/user-data', { node: id.node, lab: id.labName, os, user: id.user, hostname: id.hostname, script });
}
