import { render } from '../support/render.js';
import type { ImageIdentity } from './types.js';

/** cloud-init's meta-data (trixie): the instance-id, stable per lab and node, and the local seed. */
export function metaData({ id, instanceId }: { id: ImageIdentity; instanceId: string }): string {
  return render('image/meta-data', { node: id.node, lab: id.labName, instanceId });
}
