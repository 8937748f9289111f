import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { Lab } from '../../model/defaults.js';
import { UPSTREAM } from '../support/versions.js';
import { appLabels, resources, restricted } from './common.js';
import type { Folder } from './folder.js';

/**
 * k8s/checks/multicast/: seed 001's multicast test between pods (msend/mreceive there), as a
 * receiver Job and a sender Job that `labgen check multicast` applies, waits for and reads. Not
 * in the root kustomization: a check runs when asked, never with apply.sh. The sender prefers
 * another node than the receiver's (anti-affinity), so the datagrams cross the CNI between nodes
 * when there are two; both tolerate the control plane's taint, so one worker is enough. Python's
 * standard library does the sockets (UPSTREAM.images.multicastCheck), the scripts are here.
 */

export const MULTICAST = {
  dir: 'checks/multicast',
  namespace: 'labgen-checks',
  receiver: 'multicast-receiver',
  sender: 'multicast-sender',
  /** administratively scoped (RFC 2365): never leaves the site */
  group: '239.255.42.42',
  port: 4242,
  /** datagrams the receiver must get to pass */
  want: 3,
  /** how long the receiver waits, and the sender sends (seconds); WAIT_SECONDS in the pods */
  waitSeconds: 120,
  /** the label both pods carry, to find them */
  partOf: 'labgen-multicast-check',
} as const;

/** The receiver's last line: `RESULT pass 3/3` or `RESULT fail 0/3`. */
export const RESULT_LINE = /^RESULT (pass|fail) (\d+)\/(\d+)$/m;

const RECEIVER = `import os, socket, struct, sys, time
group, port = os.environ["GROUP"], int(os.environ["PORT"])
want = int(os.environ["WANT"])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", port))
join = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, join)
s.settimeout(1)
print(f"joined {group}:{port}, waiting for {want} datagrams", flush=True)
got, end = 0, time.time() + int(os.environ["WAIT_SECONDS"])
while got < want and time.time() < end:
    try:
        data, (ip, _) = s.recvfrom(512)
    except socket.timeout:
        continue
    got += 1
    print(f"received {data.decode(errors='replace')!r} from {ip}", flush=True)
print(f"RESULT {'pass' if got >= want else 'fail'} {got}/{want}", flush=True)
sys.exit(0 if got >= want else 1)
`;

const SENDER = `import os, socket, time
group, port = os.environ["GROUP"], int(os.environ["PORT"])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
me = os.environ.get("NODE", "?")
for i in range(int(os.environ["WAIT_SECONDS"])):
    s.sendto(f"labgen multicast {i} from {me}".encode(), (group, port))
    print(f"sent {i} to {group}:{port}", flush=True)
    time.sleep(1)
`;

function pod(name: string, script: string, avoid?: string): IPodSpec {
  return {
    restartPolicy: 'Never',
    securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    ...(avoid
      ? {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': avoid } } } },
              ],
            },
          },
        }
      : {}),
    containers: [
      {
        name,
        image: UPSTREAM.images.multicastCheck,
        command: ['python3', '-c', script],
        env: [
          { name: 'GROUP', value: MULTICAST.group },
          { name: 'PORT', value: String(MULTICAST.port) },
          { name: 'WANT', value: String(MULTICAST.want) },
          { name: 'WAIT_SECONDS', value: String(MULTICAST.waitSeconds) },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
        securityContext: restricted({ readOnlyRootFilesystem: true }),
        resources: resources('10m', '16Mi', '64Mi'),
      },
    ],
  };
}

function job(name: string, spec: IPodSpec): IJob {
  const labels = { ...appLabels(name), 'app.kubernetes.io/part-of': MULTICAST.partOf };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: MULTICAST.namespace, labels },
    spec: {
      backoffLimit: 0,
      // the image pull, then the wait: a Job that hangs longer is stopped
      activeDeadlineSeconds: MULTICAST.waitSeconds + 300,
      template: { metadata: { labels }, spec },
    },
  };
}

export function multicastCheckFolder(_lab: Lab): Folder {
  const ns: INamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MULTICAST.namespace, labels: appLabels(MULTICAST.namespace) } };
  return {
    dir: MULTICAST.dir,
    resources: {
      'namespace.yaml': [ns],
      'receiver.yaml': [job(MULTICAST.receiver, pod(MULTICAST.receiver, RECEIVER, MULTICAST.sender))],
      'sender.yaml': [job(MULTICAST.sender, pod(MULTICAST.sender, SENDER, MULTICAST.receiver))],
    },
    about: `Multicast between pods (seed 001): labgen check multicast applies this folder, waits for the
receiver and reads its log. The receiver joins ${MULTICAST.group}:${MULTICAST.port} and passes after
${MULTICAST.want} datagrams; the sender, on another node when there is one, sends one a second.
Not part of ../../kustomization.yaml: it runs only when asked.`,
  };
}
