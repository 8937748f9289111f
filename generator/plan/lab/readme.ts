import type { Lab } from '../../model/defaults.js';
import { onExistingHosts, serviceAddresses, vms } from '../../model/hosts.js';
import { firewalldPorts } from '../support/cluster-ports.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { apiEndpoint } from '../vm/kubeadm-config.js';
import { render } from '../support/render.js';
import { CNI_MULTICAST } from '../support/cni-multicast.js';
import { vmWorkerNames } from '../../model/lab-edit.js';
import { usage as pushImages } from '../k8s/push-images.js';
import { VM_SHARES_DIR } from '../../common/layout.js';

/** A Mermaid id from a host name (Mermaid reads "-" in ids as part of an edge). */
const id = (name: string) => `h_${name.replace(/[^a-zA-Z0-9]/g, '_')}`;
const box = (name: string, ...lines: string[]) => `    ${id(name)}["${[name, ...lines].join('<br/>')}"]`;

/** The lab as a Mermaid flowchart: the laptop, its VMs, the Pis and the services with their IPs. */
export function labDiagram(lab: Lab): string {
  const services = serviceAddresses(lab);
  return [
    'flowchart LR',
    onExistingHosts(lab)
      ? `  ${id('laptop')}["gateway<br/>${lab.network.gateway}<br/>router of ${lab.network.subnet}"]`
      : `  ${id('laptop')}["laptop<br/>${lab.network.gateway}<br/>gateway of ${lab.network.subnet}"]`,
    onExistingHosts(lab) ? '  subgraph VMs["existing hosts: Kubernetes"]' : '  subgraph VMs["VMs on the laptop: Kubernetes"]',
    ...vms(lab).map((vm) => box(vm.name, vm.ip, vm.role)),
    '  end',
    '  subgraph Pis["Raspberry Pis"]',
    ...lab.pis.nodes.map((n) => box(n.name, n.ip, n.roles.join(', '))),
    '  end',
    ...(services.length ? ['  subgraph Services["services: MetalLB LoadBalancer IPs"]', ...services.map((s) => box(s.name, s.ip)), '  end'] : []),
    `  ${id('laptop')} --- VMs`,
    ...(lab.pis.nodes.length ? [`  ${id('laptop')} --- Pis`] : []),
    ...(services.length ? ['  VMs --- Services'] : []),
  ].join('\n');
}

/** README.md of the lab folder: the hosts, and the steps to bring the lab up in order. */
export function planLabReadme(lab: Lab): FileSpec[] {
  const data = {
    diagram: labDiagram(lab),
    lab,
    vms: vms(lab),
    services: serviceAddresses(lab),
    apiEndpoint: apiEndpoint(lab),
    prefix: lab.network.subnet.split('/')[1],
    // what the hosts' firewalls and a cloud's security groups must let through (support/ports.ts)
    ports: { controlPlane: firewalldPorts(lab, 'control-plane'), worker: firewalldPorts(lab, 'worker') },
    cniMulticast: CNI_MULTICAST[lab.cluster.cni].note,
    // the names node add and node remove take next (VM workers are numbered)
    workerNames: vmWorkerNames(lab),
    pushImages: pushImages(vms(lab)[0]!.name),
    vmShares: VM_SHARES_DIR,
  };
  return [{ path: 'README.md', contents: render('README.md', data), mode: MODE.file, kind: 'doc' }];
}
