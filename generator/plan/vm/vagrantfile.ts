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
