import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer';
import type { Lab } from '../../model/defaults.js';
import { meta, NS } from './common.js';
import type { Folder } from './folder.js';

/**
 * k8s/cert-manager/: the lab's own certificate authority. A self-signed ClusterIssuer signs one
 * CA certificate (secret lab-ca in the cert-manager namespace); the CA ClusterIssuer signs every
 * other certificate of the lab with it (the gateway's, the registry's). cert-manager itself is
 * installed from its pinned upstream manifest by k8s/apply.sh, which afterwards copies the CA
 * certificate to .labgen/lab-ca.crt for the VMs' containerd and the laptop's browser.
 */

export const CA_ISSUER = 'lab-ca';

/** A serving certificate from the lab CA, kept in SECRET of NAMESPACE (ECDSA, key rotated on renewal). */
export function labCertificate(secret: string, namespace: string, dnsNames: string[], extra: { duration?: string; renewBefore?: string } = {}): ICertificate {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: meta(secret, namespace),
    spec: {
      secretName: secret,
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: CA_ISSUER },
      dnsNames,
      ...extra,
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
    },
  };
}
export const CA_SECRET = 'lab-ca';
const BOOTSTRAP_ISSUER = 'lab-selfsigned';

function issuers(lab: Lab): (IClusterIssuer | ICertificate)[] {
  const selfSigned: IClusterIssuer = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: meta(BOOTSTRAP_ISSUER),
    spec: { selfSigned: {} },
  };
  const ca: ICertificate = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: meta(CA_SECRET, NS.certManager),
    spec: {
      isCA: true,
      commonName: `${lab.name} lab CA`,
      secretName: CA_SECRET,
      // ten years: the VMs and browsers trust this certificate, replacing it means re-trusting
      duration: '87600h',
      privateKey: { algorithm: 'ECDSA', size: 256 },
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: BOOTSTRAP_ISSUER },
    },
  };
  // a ClusterIssuer reads its secret from cert-manager's own namespace
  const caIssuer: IClusterIssuer = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'ClusterIssuer',
    metadata: meta(CA_ISSUER),
    spec: { ca: { secretName: CA_SECRET } },
  };
  return [selfSigned, ca, caIssuer];
}

export function certManagerFolder(lab: Lab): Folder | undefined {
  if (!lab.services.certManager) return undefined;
  return {
    dir: 'cert-manager',
    resources: { 'lab-ca.yaml': issuers(lab) },
    about: `The lab CA: self-signed ClusterIssuer → CA certificate (secret ${CA_SECRET}) → ClusterIssuer ${CA_ISSUER}.
cert-manager itself is installed from its pinned upstream manifest by ../apply.sh.`,
  };
}
