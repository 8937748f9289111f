import type { Lab } from '../model/defaults.js';
import { serviceAddresses, vms } from '../model/hosts.js';
import { type FileSpec, MODE } from './file-spec.js';
import { apiEndpoint } from './kubeadm-config.js';
import { render } from './render.js';

/** README.md of the lab folder: the hosts, and the steps to bring the lab up in order. */
export function planLabReadme(lab: Lab): FileSpec[] {
  const data = {
    lab,
    vms: vms(lab),
    services: serviceAddresses(lab),
    apiEndpoint: apiEndpoint(lab),
    prefix: lab.network.subnet.split('/')[1],
  };
  return [{ path: 'README.md', contents: render('README.md', data), mode: MODE.file, kind: 'doc' }];
}
