import type { Lab } from '../../model/defaults.js';
import { onExistingHosts, vms } from '../../model/hosts.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { render } from '../support/render.js';
import { LABGEN_DIR, VM_SHARES_DIR } from '../../common/layout.js';

/** Vagrantfile: the lab's VMs, from templates/Vagrantfile.ejs; none when the hosts exist already (provider existing). */
export function planVagrantfile(lab: Lab): FileSpec[] {
  if (onExistingHosts(lab)) return [];
  return [{ path: 'Vagrantfile', contents: render('Vagrantfile', { lab, vms: vms(lab), shares: VM_SHARES_DIR, labgenDir: LABGEN_DIR }), mode: MODE.file, kind: 'vm' }];
}

/** A line of NODES, with the name of the VM it defines. */
const NODE_LINE = /^ {2}\{ name: '([^']*)', /;

/**
 * The Vagrantfile as one VM sees it: every line but the other VMs' lines of NODES. `labgen up`
 * compares it with what the VM last booted with: a VM more or less in the lab changes only its
 * own line, so the others need no restart (their provisioning still runs, for /etc/hosts).
 */
export function vagrantfileOf(text: string, vm: string): string {
  return text
    .split('\n')
    .filter((l) => NODE_LINE.exec(l)?.[1] === undefined || NODE_LINE.exec(l)![1] === vm)
    .join('\n');
}
