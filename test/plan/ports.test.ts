import { describe, expect, it } from 'vitest';
import { clusterPorts, firewalldPorts } from '../../generator/plan/support/cluster-ports.js';

/**
 * The cluster's ports as firewalld gets them on existing hosts (provision/common.sh): the one
 * table of support/cluster-ports.ts (the Terraform export's security group reads it too), by role.
 */
const lab = (cni: 'flannel' | 'calico' | 'cilium') => ({ cluster: { cni } }) as Parameters<typeof firewalldPorts>[0];

describe('firewalldPorts', () => {
  it('every CNI: the API and etcd on the control plane only, the kubelet and NodePorts on every host', () => {
    for (const cni of ['flannel', 'calico', 'cilium'] as const) {
      const cp = firewalldPorts(lab(cni), 'control-plane');
      const worker = firewalldPorts(lab(cni), 'worker');
      for (const p of ['6443/tcp', '2379-2380/tcp', '10250/tcp', '30000-32767/tcp']) expect(cp, cni).toContain(p);
      for (const p of ['10250/tcp', '30000-32767/tcp']) expect(worker, cni).toContain(p);
      expect(worker, cni).not.toContain('6443/tcp');
      expect(worker, cni).not.toContain('2379-2380/tcp');
    }
  });

  it("each CNI's own, on every host: Flannel 8472/udp; Calico 179/tcp, 4789/udp, 5473/tcp; Cilium 8472/udp, 4240/tcp (its ICMP echo is firewalld's default)", () => {
    const own = (cni: 'flannel' | 'calico' | 'cilium') => firewalldPorts(lab(cni), 'worker').filter((p) => !firewalldPorts(lab('flannel'), 'worker').slice(0, -1).includes(p));
    expect(own('flannel')).toEqual(['8472/udp']);
    expect(own('calico')).toEqual(['179/tcp', '4789/udp', '5473/tcp']);
    expect(own('cilium')).toEqual(['8472/udp', '4240/tcp']);
    expect(clusterPorts(lab('cilium')).some((p) => p.protocol === 'icmp')).toBe(true);
  });
});
