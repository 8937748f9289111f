import type { Lab } from '../../model/defaults.js';
import { SECRET } from '../../secrets/paths.js';
import type { Secrets } from '../../secrets/store.js';
import { UPSTREAM } from '../support/versions.js';
import { dataVolume, deployment, NS, port, resources, service } from './common.js';
import type { Folder } from './folder.js';
import { envSecret } from './folder.js';

/**
 * k8s/sftp/ and k8s/tftp/: seed 003's file services for end users, each on its services.* IP.
 * SFTP logs in with the lab's SSH key (the one labgen uses for the Pis); TFTP serves read-only
 * files, e.g. for network boot, from its volume.
 */

/** The SFTP account: `sftp lab@sftp.<domain>` with the lab key. */
export const SFTP_USER = 'lab';
const SFTP_KEYS = 'sftp-authorized-keys';

export function sftpFolder(lab: Lab, secrets: Secrets): Folder | undefined {
  const sftp = lab.services.sftp;
  if (!sftp) return undefined;
  const keys = envSecret(SFTP_KEYS, NS.ftp, [{ key: 'authorized_keys', value: secrets.sshKey.public, from: SECRET.sshPublicKey }]);
  const data = dataVolume(lab, 'sftp', NS.ftp, '5Gi');
  // linuxserver's image starts as root (s6) and drops to PUID/PGID: no restricted context here
  const d = deployment('sftp', NS.ftp, {
    containers: [
      {
        name: 'sftp',
        image: UPSTREAM.images.sftp,
        env: [
          { name: 'PUID', value: '1000' },
          { name: 'PGID', value: '1000' },
          { name: 'TZ', value: 'Etc/UTC' },
          { name: 'USER_NAME', value: SFTP_USER },
          { name: 'PUBLIC_KEY_FILE', value: '/keys/authorized_keys' },
          { name: 'PASSWORD_ACCESS', value: 'false' },
          { name: 'SUDO_ACCESS', value: 'false' },
        ],
        ports: [{ name: 'ssh', containerPort: 2222 }],
        readinessProbe: { tcpSocket: { port: 2222 } },
        resources: resources('10m', '32Mi', '256Mi'),
        // /config keeps the server's host keys and the user's files
        volumeMounts: [
          { name: 'data', mountPath: '/config' },
          { name: 'keys', mountPath: '/keys', readOnly: true },
        ],
      },
    ],
    volumes: [data.volume, { name: 'keys', secret: { secretName: SFTP_KEYS } }],
  });
  return {
    dir: 'sftp',
    namespace: NS.ftp,
    resources: { 'sftp.yaml': [...data.claims, d, service('sftp', NS.ftp, [port('ssh', 22, 2222)], sftp.ip)] },
    secrets: [keys.generator],
    secretFiles: [keys.file],
    about: `SFTP on services.sftp.ip port 22: user ${SFTP_USER}, the lab's SSH key (secrets/, from ../../.labgen/secrets/${SECRET.sshPublicKey}).`,
  };
}

export function tftpFolder(lab: Lab): Folder | undefined {
  const tftp = lab.services.tftp;
  if (!tftp) return undefined;
  const data = dataVolume(lab, 'tftp', NS.ftp, '1Gi');
  const d = deployment('tftp', NS.ftp, {
    containers: [
      {
        name: 'tftp',
        image: UPSTREAM.images.tftp,
        command: ['dnsmasq'],
        args: [
          '--keep-in-foreground',
          '--log-facility=-',
          // TFTP only: no DNS, no DHCP
          '--port=0',
          '--enable-tftp',
          '--tftp-root=/srv/tftp',
          // transfers stay on port 69 instead of a random port: they pass the Service's NAT
          '--tftp-single-port',
        ],
        ports: [{ name: 'tftp', containerPort: 69, protocol: 'UDP' }],
        resources: resources('10m', '8Mi', '64Mi'),
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'SETUID', 'SETGID'] } },
        volumeMounts: [{ name: 'data', mountPath: '/srv/tftp' }],
      },
    ],
    volumes: [data.volume],
  });
  return {
    dir: 'tftp',
    namespace: NS.ftp,
    resources: { 'tftp.yaml': [...data.claims, d, service('tftp', NS.ftp, [port('tftp', 69, 69, 'UDP')], tftp.ip)] },
    about: 'TFTP (dnsmasq, TFTP only) on services.tftp.ip, serving its volume read-only.',
  };
}
