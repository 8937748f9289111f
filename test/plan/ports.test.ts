import { describe, expect, it } from 'vitest';
import { clusterPorts, portsOf } from '../../generator/plan/support/ports.js';

/**
 * The cluster's ports, one table (generator/plan/support/ports.ts) for firewalld on the hosts
 * (provision/common.sh) and any export of security groups: Kubernetes' "Ports and Protocols" and
 * each CNI's own requirements.
 */
describe('clusterPorts', () => {
  it('every CNI: the API and etcd on the control plane only, the kubelet on every node', () => {
    for (const cni of ['flannel', 'calico', 'cilium'] as const) {
      const cp = portsOf(cni, 'control-plane');
      const worker = portsOf(cni, 'worker');
      for (const p of ['6443/tcp', '2379-2380/tcp', '10250/tcp']) expect(cp, cni).toContain(p);
      expect(worker, cni).toContain('10250/tcp');
      expect(worker, cni).not.toContain('6443/tcp');
      expect(worker, cni).not.toContain('2379-2380/tcp');
    }
  });

  it("each CNI's own: Flannel VXLAN; Calico BGP, VXLAN and Typha; Cilium VXLAN and health checks, on every node", () => {
    const cniPorts = (cni: 'flannel' | 'calico' | 'cilium') => clusterPorts(cni).filter((p) => !clusterPorts('flannel').slice(0, -1).includes(p));
    expect(cniPorts('flannel').map((p) => `${p.port}/${p.protocol}`)).toEqual(['8472/udp']);
    expect(cniPorts('calico').map((p) => `${p.port}/${p.protocol}`)).toEqual(['179/tcp', '4789/udp', '5473/tcp']);
    expect(cniPorts('cilium').map((p) => `${p.port}/${p.protocol}`)).toEqual(['8472/udp', '4240/tcp']);
    for (const cni of ['flannel', 'calico', 'cilium'] as const)
      for (const p of cniPorts(cni)) expect(p.on, `${cni} ${p.port}`).toEqual(['control-plane', 'worker']);
  });

  it('a port or a range, each with what it is for', () => {
    for (const p of clusterPorts('calico')) {
      expect(p.port).toMatch(/^\d+(-\d+)?$/);
      expect(p.why.length).toBeGreaterThan(0);
    }
  });
});
