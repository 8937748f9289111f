import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServicePort } from 'kubernetes-models/v1/ServicePort';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { Lab } from '../../model/defaults.js';
import { nfsExports } from '../support/nfs-exports.js';

/**
 * Building blocks shared by the k8s/ folder planners. Objects are typed with kubernetes-models'
 * interfaces (type-only imports: nothing of it is loaded at run time) and serialized by toYaml.
 */

/** Namespaces labgen creates (metallb-system and cert-manager come with their upstream installs). */
export const NS = {
  metallb: 'metallb-system',
  certManager: 'cert-manager',
  dns: 'lab-dns',
  gateway: 'gateway',
  headlamp: 'headlamp',
  registry: 'registry',
  storage: 'nfs-storage',
  monitoring: 'monitoring',
  logging: 'logging',
  ftp: 'ftp',
  slurm: 'slurm',
} as const;

/**
 * MetalLB's per-Service address request. Service.spec.loadBalancerIP is deprecated since
 * Kubernetes 1.24, and the metallb.universe.tf/ prefix since MetalLB 0.14.9.
 */
export const LB_IPS_ANNOTATION = 'metallb.io/loadBalancerIPs';

export function appLabels(app: string): Record<string, string> {
  return { 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': 'labgen' };
}

export function meta(name: string, namespace?: string, extra: { annotations?: Record<string, string> } = {}) {
  return { name, ...(namespace ? { namespace } : {}), labels: appLabels(name), ...extra };
}

/** A Service for `app`'s pods: a LoadBalancer on exactly `ip` when given, else a ClusterIP. */
export function service(app: string, namespace: string, ports: IServicePort[], ip?: string, selectApp = app): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(app, namespace, ip ? { annotations: { [LB_IPS_ANNOTATION]: ip } } : {}),
    spec: {
      type: ip ? 'LoadBalancer' : 'ClusterIP',
      selector: { 'app.kubernetes.io/name': selectApp },
      ports,
    },
  };
}

export function port(name: string, portNumber: number, targetPort: number | string = portNumber, protocol: 'TCP' | 'UDP' = 'TCP'): IServicePort {
  return { name, port: portNumber, targetPort, protocol };
}

/** No privilege escalation, no capabilities: what every labgen container starts from. */
export function restricted(extra: ISecurityContext = {}): ISecurityContext {
  return { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...extra };
}

/** A one-replica Deployment of `app` (lab services keep state on one volume: Recreate, not rolling). */
export function deployment(app: string, namespace: string, pod: IPodSpec, opts: { strategy?: 'Recreate' | 'RollingUpdate' } = {}): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(app, namespace),
    spec: {
      replicas: 1,
      strategy: { type: opts.strategy ?? 'Recreate' },
      selector: { matchLabels: { 'app.kubernetes.io/name': app } },
      template: { metadata: { labels: appLabels(app) }, spec: pod },
    },
  };
}

/** Small, explicit requests so the scheduler can place everything on a laptop's VMs. */
export function resources(cpu: string, memory: string, memoryLimit?: string): IContainer['resources'] {
  return { requests: { cpu, memory }, ...(memoryLimit ? { limits: { memory: memoryLimit } } : {}) };
}

/** True when the lab has NFS exports: PersistentVolumeClaims then bind to the default StorageClass. */
export function hasStorage(lab: Lab): boolean {
  return nfsExports(lab).length > 0;
}

/**
 * A data volume for `app`: a PersistentVolumeClaim on the lab's default (NFS) StorageClass, or
 * an emptyDir when the lab has no storage (the data then lives as long as the pod).
 */
export function dataVolume(lab: Lab, app: string, namespace: string, size: string): { volume: IVolume; claims: IPersistentVolumeClaim[] } {
  if (!hasStorage(lab)) return { volume: { name: 'data', emptyDir: {} }, claims: [] };
  const claim: IPersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(`${app}-data`, namespace),
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
  };
  return { volume: { name: 'data', persistentVolumeClaim: { claimName: `${app}-data` } }, claims: [claim] };
}

/** `name.domain`: how a service is reached in the lab (the DNS zone and hosts files agree). */
export function fqdn(lab: Lab, name: string): string {
  return `${name}.${lab.domain}`;
}

export const hasCertManager = (lab: Lab): boolean => Boolean(lab.services.certManager);
export const hasGateway = (lab: Lab): boolean => Boolean(lab.services.gateway);
