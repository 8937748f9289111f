import type { Lab } from '../../model/defaults.js';
import { K8S_SECRETS_DIR, SECRET } from '../../secrets/paths.js';
import type { Secrets } from '../../secrets/store.js';
import { MODE } from '../file-spec.js';
import { cgroupConf } from '../slurm/cgroup-conf.js';
import { SLURM_CONF_DIR, SLURM_PORTS, SLURMCTLD_K8S_HOSTNAME, slurmConf } from '../slurm/slurm-conf.js';
import { marker } from '../../common/quote.js';
import { toYaml } from '../support/yaml.js';
import { dataVolume, deployment, NS, port, restricted, resources, service } from './common.js';
import { envSecret, type Folder, type SecretFile } from './folder.js';
import { registryDockerConfig } from './registry.js';
import {
  buildAndPushScript,
  dockerfile,
  entrypoint,
  MUNGE_SECRET_DIR,
  SLURM_EXPORTER_PORT,
  slurmExporter,
  slurmImage,
  slurmRelease,
  SLURM_OF_RELEASE,
} from './slurm-image.js';

/**
 * k8s/slurm/: slurmctld in the cluster when slurm.controller is k8s (seed 003's slurmctld), the
 * "configless" server of the lab: slurm.conf and cgroup.conf are the very files of ../../slurm/
 * (slurmConf(lab), what a controller Pi would use), copied into k8s/slurm/ (kustomize reads no
 * file outside the folder) and mounted from a ConfigMap; the Pis' slurmds fetch them from it at
 * slurm.ip:6817, a LoadBalancer IP. State lives on a persistent volume, the munge key and the
 * registry pull secret are in secrets/ (from .labgen/secrets/). The pod's host name is the
 * SlurmctldHost name.
 */

const APP = 'slurmctld';
const CONF_MAP = 'slurm-conf';
const MUNGE_SECRET = 'munge-key';
/** image pull secret for the lab registry (made by labgen from the registry password) */
export const PULL_SECRET = 'lab-registry';
const STATE_DIR = '/var/lib/slurm/slurmctld';

function slurmctld(lab: Lab) {
  const data = dataVolume(lab, APP, NS.slurm, '1Gi');
  const image = slurmImage(lab);
  const confMount = { name: 'conf', mountPath: SLURM_CONF_DIR, readOnly: true };
  const mungeRun = { name: 'munge-run', mountPath: '/run/munge' };
  const d = deployment(APP, NS.slurm, {
    // slurmctld starts only on the host SlurmctldHost names
    hostname: SLURMCTLD_K8S_HOSTNAME,
    imagePullSecrets: [{ name: PULL_SECRET }],
    containers: [
      {
        name: APP,
        image,
        ports: [{ name: 'slurmctld', containerPort: SLURM_PORTS.slurmctld }],
        readinessProbe: { tcpSocket: { port: SLURM_PORTS.slurmctld } },
        resources: resources('100m', '128Mi', '512Mi'),
        // starts as root to set up munged and the state folder, then slurmctld drops to SlurmUser
        securityContext: { allowPrivilegeEscalation: false },
        volumeMounts: [confMount, mungeRun, { name: 'munge-key', mountPath: MUNGE_SECRET_DIR, readOnly: true }, { name: 'data', mountPath: STATE_DIR }],
      },
      {
        name: 'exporter',
        image,
        command: ['/usr/local/bin/labgen-slurm-exporter'],
        args: ['--port', String(SLURM_EXPORTER_PORT)],
        env: [{ name: 'SLURM_CONF', value: `${SLURM_CONF_DIR}/slurm.conf` }],
        ports: [{ name: 'metrics', containerPort: SLURM_EXPORTER_PORT }],
        resources: resources('10m', '32Mi', '128Mi'),
        securityContext: restricted({ runAsNonRoot: true, runAsUser: 991, runAsGroup: 991 }),
        volumeMounts: [confMount, mungeRun],
      },
    ],
    volumes: [
      { name: 'conf', configMap: { name: CONF_MAP } },
      { name: 'munge-run', emptyDir: {} },
      { name: 'munge-key', secret: { secretName: MUNGE_SECRET, defaultMode: 0o400 } },
      data.volume,
    ],
  });
  const ports = [port('slurmctld', SLURM_PORTS.slurmctld), port('metrics', SLURM_EXPORTER_PORT)];
  return [...data.claims, d, service(APP, NS.slurm, ports, lab.slurm!.ip)];
}

/**
 * The munge key as a Secret object: the key is 1024 random bytes, which a secretGenerator's env
 * file cannot hold, so labgen writes its base64 itself (a plain name: no hash suffix).
 */
function mungeKeySecret(secrets: Secrets): SecretFile {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: MUNGE_SECRET, namespace: NS.slurm }, type: 'Opaque', data: { 'munge.key': secrets.mungeKey } };
  const about = `${marker('#')}\n# The munge key, from .labgen/secrets/${SECRET.mungeKey}. Secret: 0600, git-ignored; never commit or share it.`;
  return { name: `${K8S_SECRETS_DIR}/munge-key.yaml`, contents: toYaml([secret], about), resource: true };
}

export function slurmFolder(lab: Lab, secrets: Secrets): Folder | undefined {
  if (lab.slurm?.controller !== 'k8s') return undefined;
  const release = slurmRelease(lab);
  const pull = envSecret(PULL_SECRET, NS.slurm, [{ key: '.dockerconfigjson', value: registryDockerConfig(lab, secrets), from: SECRET.registryPassword }], 'kubernetes.io/dockerconfigjson');
  return {
    dir: 'slurm',
    namespace: NS.slurm,
    resources: { 'slurmctld.yaml': slurmctld(lab) },
    files: [
      { name: 'Dockerfile', contents: dockerfile(lab) },
      { name: 'entrypoint.sh', contents: entrypoint(), mode: MODE.script },
      { name: 'slurm-exporter.py', contents: slurmExporter(), mode: MODE.script },
      { name: 'build-and-push.sh', contents: buildAndPushScript(lab), mode: MODE.script },
      // copies of ../../slurm/'s files: kustomize reads no file outside this folder
      { name: 'slurm.conf', contents: slurmConf(lab) },
      { name: 'cgroup.conf', contents: cgroupConf(lab) },
    ],
    configMaps: [{ name: CONF_MAP, namespace: NS.slurm, files: ['slurm.conf', 'cgroup.conf'] }],
    secrets: [pull.generator],
    secretFiles: [mungeKeySecret(secrets), pull.file],
    about: `slurmctld (Debian ${release}, Slurm ${SLURM_OF_RELEASE[release]}: the Pis' slurmd's release) on slurm.ip,
serving slurm.conf configless (slurm.conf and cgroup.conf here are copies of ../../slurm/'s).
Build its image first: ./build-and-push.sh. The munge key and the registry pull secret are in
secrets/ (from ../../.labgen/secrets/).`,
  };
}
