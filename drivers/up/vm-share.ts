import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../../generator/common/atomic.js';
import { LABGEN_DIR, SECRETS_DIR, VM_SHARES_DIR } from '../../generator/common/layout.js';
import type { Vm } from '../../generator/model/hosts.js';
import { CA_FILE } from '../../generator/plan/k8s/apply-script.js';
import { JOIN_FILE } from '../../generator/plan/vm/kubeadm-config.js';
import { hostKeySecret, SECRET } from '../../generator/secrets/paths.js';

/**
 * A VM's own folder of VM_SHARES_DIR: the Vagrantfile syncs it to the VM as /vagrant/.labgen (and
 * provision/ as /vagrant/provision; nothing else of the lab folder), so the VM's scripts find
 * their files where a host that exists already has them (drivers/up/hosts.ts filesFor), but the
 * VM sees no other VM's or Pi's host key, no munge key, not the lab's SSH key. It holds:
 *   secrets/hostkeys/VM/ssh_host_ed25519_key(.pub)  its SSH host key (common.sh installs it)
 *   secrets/kubeadm-token                           the control plane's: the bootstrap token
 *   secrets/join.kubeconfig                         a worker's: the join file, carried from the
 *                                                   control plane (which writes it into its own)
 *   lab-ca.crt                                      once k8s/apply.sh saved the lab CA
 * `labgen up` writes it before each vagrant command it runs for the VM, from .labgen/ as it is
 * then: a rekeyed VM gets its new key, a CA that appeared reaches it. Folders 0700, secrets 0600.
 */
export const vmShare = (vm: string) => `${VM_SHARES_DIR}/${vm}`;

/** One file of a share: where it is in .labgen/ (the share mirrors it), its bytes (none: it must not be there), its mode. */
interface ShareFile {
  path: string;
  content: Buffer | undefined;
  mode: number;
}

/** What `vm`'s share must hold: copies of the lab folder's files, and a worker's join file when there is one to give it. */
function shareFiles(labDir: string, vm: Vm, join_?: Buffer): ShareFile[] {
  const copy = (path: string, mode: number): ShareFile => {
    const abs = join(labDir, path);
    return { path, content: existsSync(abs) ? readFileSync(abs) : undefined, mode };
  };
  const key = `${SECRETS_DIR}/${hostKeySecret(vm.name)}`;
  return [
    copy(key, 0o600),
    copy(`${key}.pub`, 0o600),
    ...(vm.role === 'control-plane' ? [copy(`${SECRETS_DIR}/${SECRET.kubeadmToken}`, 0o600)] : []),
    // a worker that does not join now keeps the join file it has
    ...(vm.role === 'worker' && join_ ? [{ path: JOIN_FILE, content: join_, mode: 0o600 }] : []),
    copy(CA_FILE, 0o644),
  ];
}

/** A folder of the share, 0700 even when Vagrant made it (its synced folder's `create`, with the umask's mode). */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * `vm`'s share brought to what it must hold (only files that differ are written, each atomically;
 * a copy whose original is gone is removed). What the control plane writes into its own share
 * (the join file, the admin kubeconfig) stays.
 */
export function writeVmShare(labDir: string, vm: Vm, join_?: Buffer): void {
  const root = join(labDir, vmShare(vm.name));
  privateDir(join(labDir, VM_SHARES_DIR));
  privateDir(root);
  for (const f of shareFiles(labDir, vm, join_)) {
    const target = join(root, relative(LABGEN_DIR, f.path));
    if (!f.content) {
      rmSync(target, { force: true });
      continue;
    }
    for (let d = dirname(target); d !== root && d.startsWith(root); d = dirname(d)) privateDir(d);
    if (existsSync(target) && (statSync(target).mode & 0o7777) === f.mode && readFileSync(target).equals(f.content)) continue;
    writeFileAtomic(target, f.content, f.mode);
  }
}
