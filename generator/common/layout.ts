/**
 * The lab folder's own files, relative to it: one table of where labgen keeps what. Plans may
 * name these paths; only the writer, the secrets store and the drivers read or write them.
 */
export const LABGEN_DIR = '.labgen';
/** the lab's keys, tokens and passwords (0700, git-ignored; secrets/paths.ts names the files) */
export const SECRETS_DIR = `${LABGEN_DIR}/secrets`;
/**
 * per VM, VM/: what of .labgen/ that VM sees, as its /vagrant/.labgen (the Vagrantfile syncs it and
 * provision/, nothing else of the lab folder): its SSH host key, the control plane's bootstrap
 * token, a worker's join file, the lab CA. Inside secrets/: 0700, git-ignored, left out of an
 * export like the rest (drivers/up/vm-share.ts fills it before each vagrant command)
 */
export const VM_SHARES_DIR = `${SECRETS_DIR}/vms`;
/** every Pi's and VM's host key, pinned under its names and address (OpenSSH format: laptop/ssh_config reads it) */
export const KNOWN_HOSTS = `${LABGEN_DIR}/known_hosts`;
/** what labgen last wrote: path → sha256 and mode, and the names of the secrets (writer/manifest.ts) */
export const MANIFEST = `${LABGEN_DIR}/manifest.json`;
/** files the user keeps as edited by hand (writer/keep.ts) */
export const KEEP = `${LABGEN_DIR}/keep`;
/** exists while a write is under way: a run killed outright leaves it (writer/debris.ts) */
export const JOURNAL = `${LABGEN_DIR}/writing`;
/** per Pi, the address it last answered at, after a push or an adopt (drivers/base/addresses.ts) */
export const STATE_FILE = `${LABGEN_DIR}/state.json`;
/** what `labgen up` last applied: the VMs' and k8s/'s files, per VM what it still needs (drivers/up/state.ts) */
export const UP_STATE = `${LABGEN_DIR}/up-state.json`;
