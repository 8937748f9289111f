import type { IService } from 'kubernetes-models/v1/Service';
import type { Lab } from '../../model/defaults.js';
import { onService } from '../../model/hosts.js';
import { uiHost, WEB_UIS } from '../../model/services.js';
import { fqdn, hasCertManager, hasGateway, NS, port, service } from './common.js';
import type { HTTPRoute } from './crd-types.js';

/**
 * The lab's web UIs, each at https://<name>.<domain> through the gateway (TLS from the lab CA).
 *
 * A UI with its own IP in lab.yaml (services.monitoring.grafana, services.registry.ui, ...) keeps
 * that IP, and its name resolves to it (DNS zone and hosts files both come from hostsEntries):
 * so that LoadBalancer IP is a second front door of the gateway (k8s/gateway/), and the name
 * gets the same TLS and routing whichever address it resolves to. Without a gateway the IP
 * goes straight to the UI, over plain HTTP.
 */

export interface WebUi {
  /** host label: <name>.<domain>; also the name in serviceAddresses() / gatewayAliases() */
  name: string;
  namespace: string;
  /** the UI's ClusterIP Service (port 80) */
  service: string;
  /** container port the UI listens on */
  targetPort: number;
  /** its own LoadBalancer IP from lab.yaml, if it has one */
  ip?: string;
}

/** The web UIs of the services that are on, in WEB_UIS order (model/services.ts), each in its service's namespace. */
export function webUis(lab: Lab): WebUi[] {
  return WEB_UIS.flatMap((ui): WebUi[] => {
    const on = onService(lab, ui.service);
    if (!on) return [];
    const ip = 'ip' in ui ? (on as Record<string, unknown>)[ui.ip] : undefined;
    return [{ name: uiHost(ui), namespace: NS[ui.service], service: ui.k8sService, targetPort: ui.targetPort, ...(typeof ip === 'string' ? { ip } : {}) }];
  });
}

export const GATEWAY_NAME = 'lab';
/** The gateway's listeners: HTTPS when cert-manager can issue its certificate, else HTTP only. */
export const LISTENER = { http: 'http', https: 'https' } as const;

/** The listener routes attach to: HTTPS when there is one (HTTP then only redirects). */
export function routeListener(lab: Lab): string {
  return hasCertManager(lab) ? LISTENER.https : LISTENER.http;
}

/** The UI's own Service: ClusterIP behind the gateway, or a LoadBalancer on its IP without one. */
export function uiService(lab: Lab, ui: WebUi): IService {
  const direct = hasGateway(lab) ? undefined : ui.ip;
  return service(ui.service, ui.namespace, [port('http', 80, ui.targetPort)], direct);
}

/** HTTPRoute <name>.<domain> → the UI's Service, in the UI's namespace; none without a gateway. */
export function uiRoute(lab: Lab, ui: WebUi): HTTPRoute[] {
  if (!hasGateway(lab)) return [];
  return [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: ui.name, namespace: ui.namespace, labels: { 'app.kubernetes.io/part-of': 'labgen' } },
      spec: {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: GATEWAY_NAME, namespace: NS.gateway, sectionName: routeListener(lab) }],
        hostnames: [fqdn(lab, ui.name)],
        rules: [{ backendRefs: [{ name: ui.service, port: 80 }] }],
      },
    },
  ];
}
