/**
 * The fields labgen writes of custom resources that have no npm typings (MetalLB, Gateway API).
 * Tests validate the objects against the upstream CRD schemas (vendored in test/fixtures/crds/).
 */

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface IPAddressPool {
  apiVersion: 'metallb.io/v1beta1';
  kind: 'IPAddressPool';
  metadata: Meta;
  spec: { addresses: string[]; autoAssign?: boolean };
}

export interface L2Advertisement {
  apiVersion: 'metallb.io/v1beta1';
  kind: 'L2Advertisement';
  metadata: Meta;
  spec: { ipAddressPools: string[] };
}

export interface GatewayClass {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'GatewayClass';
  metadata: Meta;
  spec: { controllerName: string; description?: string };
}

export interface Listener {
  name: string;
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  hostname?: string;
  tls?: { mode: 'Terminate'; certificateRefs: { kind: 'Secret'; name: string }[] };
  allowedRoutes?: { namespaces: { from: 'All' | 'Same' } };
}

export interface Gateway {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'Gateway';
  metadata: Meta;
  spec: { gatewayClassName: string; listeners: Listener[] };
}

export interface ParentRef {
  group: 'gateway.networking.k8s.io';
  kind: 'Gateway';
  name: string;
  namespace: string;
  sectionName: string;
}

export interface HTTPRoute {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  metadata: Meta;
  spec: {
    parentRefs: ParentRef[];
    hostnames?: string[];
    rules: {
      backendRefs?: { name: string; port: number }[];
      filters?: { type: 'RequestRedirect'; requestRedirect: { scheme: 'https'; statusCode: 301 } }[];
    }[];
  };
}
