import type { Lab } from '../../model/defaults.js';
import { onExistingHosts } from '../../model/hosts.js';

/**
 * Where the VMs' scripts find the lab folder: what Vagrant syncs of it there, provision/ and the
 * VM's own share of .labgen/ (drivers/up/vm-share.ts), each at its path in the lab folder.
 */
const SYNCED_FOLDER = '/vagrant';
/**
 * Where `labgen up` puts on a host that exists already (provider existing) what of the lab
 * folder that host needs: provision/, and the join file or the token (never the whole secrets folder).
 */
export const EXISTING_LAB_ROOT = '/var/lib/labgen/lab';

/** The lab folder as the provisioning scripts see it on their machine. */
export const labRoot = (lab: Lab) => (onExistingHosts(lab) ? EXISTING_LAB_ROOT : SYNCED_FOLDER);
