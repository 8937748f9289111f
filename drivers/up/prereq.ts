import { EXIT, LabgenError } from '../../generator/errors.js';
import type { Runner } from '../base/runner.js';
import { Vagrant } from './vagrant.js';

/**
 * What `labgen up` runs on this machine, checked before anything starts: vagrant, the provider
 * of `cluster.provider` (VirtualBox's VBoxManage, or the vagrant-libvirt plugin), kubectl. Each
 * one missing is named with how to install it; any missing stops the run with exit 2 (the
 * command cannot be run here as asked, and nothing was started, like bad input; exit 1 is kept
 * for a run that started and failed).
 */

/** cluster.provider: existing hosts need kubectl only (no vagrant). */
export type Provider = 'virtualbox' | 'libvirt' | 'existing';

const INSTALL = {
  vagrant: 'vagrant: not found on PATH. Install Vagrant: https://developer.hashicorp.com/vagrant/install (Debian/Ubuntu: apt install vagrant)',
  virtualbox:
    'VBoxManage: not found on PATH, and cluster.provider is virtualbox. Install VirtualBox: https://www.virtualbox.org/wiki/Downloads (or set cluster.provider: libvirt)',
  libvirt:
    "vagrant-libvirt: not among vagrant's plugins, and cluster.provider is libvirt. Install it: `vagrant plugin install vagrant-libvirt`, " +
    'with libvirt and QEMU/KVM (Debian/Ubuntu: apt install vagrant-libvirt libvirt-daemon-system); https://vagrant-libvirt.github.io/vagrant-libvirt/installation.html',
  kubectl: 'kubectl: not found on PATH. Install it: https://kubernetes.io/docs/tasks/tools/ (Debian: apt install kubernetes-client)',
} as const;

async function onPath(r: Runner, cmd: string): Promise<boolean> {
  return (await r.exec(`command -v ${cmd} >/dev/null 2>&1`)).code === 0;
}

/** What is missing, one line each (with how to install it); [] when nothing is. */
export async function missingPrereqs(r: Runner, provider: Provider): Promise<string[]> {
  const missing: string[] = [];
  const vagrant = provider !== 'existing' && (await onPath(r, 'vagrant'));
  if (provider !== 'existing' && !vagrant) missing.push(INSTALL.vagrant);
  if (provider === 'virtualbox' && !(await onPath(r, 'VBoxManage'))) missing.push(INSTALL.virtualbox);
  if (provider === 'libvirt' && vagrant) {
    try {
      if (!(await new Vagrant(r).plugins()).includes('vagrant-libvirt')) missing.push(INSTALL.libvirt);
    } catch (e) {
      missing.push(`vagrant plugin list failed: ${(e as Error).message}`);
    }
  }
  if (!(await onPath(r, 'kubectl'))) missing.push(INSTALL.kubectl);
  return missing;
}

/** Stops the run (exit 2) when anything is missing. */
export async function requirePrereqs(r: Runner, provider: Provider): Promise<void> {
  const missing = await missingPrereqs(r, provider);
  if (missing.length)
    throw new LabgenError(EXIT.badInput, `up needs what this machine lacks; nothing was started:\n${missing.map((m) => `  - ${m}`).join('\n')}`, {
      hint: 'install what is named above, then run `labgen up` again',
    });
}
