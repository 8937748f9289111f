import type { Lab } from '../../model/defaults.js';
import { onExistingHosts, vms } from '../../model/hosts.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { render } from '../support/render.js';

/** Vagrantfile: the lab's VMs, from templates/Vagrantfile.ejs; none when the hosts exist already (provider existing). */
export function planVagrantfile(lab: Lab): FileSpec[] {
  if (onExistingHosts(lab)) return [];
  return [{ path: 'Vagrantfile', contents: render('Vagrantfile', { lab, vms: vms(lab) }), mode: MODE.file, kind: 'vm' }];
}
