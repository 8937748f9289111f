import { createHash } from 'node:crypto';
import type { Lab } from '../../model/defaults.js';
import { newestRelease, type PiRelease, SLURM_OF_RELEASE } from '../../model/slurm-releases.js';
import { SECRETS_DIR } from '../../common/layout.js';
import { SECRET } from '../../secrets/paths.js';
import { REGISTRY_USER } from '../../secrets/store.js';
import { render } from '../support/render.js';
import { UPSTREAM } from '../support/versions.js';
import { registryHost } from './registry.js';

/**
 * The slurmctld image of k8s/slurm/: Dockerfile, its entrypoint, labgen's Slurm exporter and the
 * script that builds the image and pushes it to the lab registry. slurmctld and slurmd must be
 * within Slurm's version window (slurmctld the newer), so the image is built from the Debian
 * release of the Slurm Pis: the same packages, the same Slurm version as their slurmd.
 * The four files are templates/k8s/slurm/{Dockerfile,entrypoint.sh,slurm-exporter.py,build-and-push.sh}.ejs.
 */

type Release = PiRelease;
/** Slurm in each Debian release (Raspberry Pi OS follows Debian's packages). */
export { SLURM_OF_RELEASE };

/** Port of labgen's Slurm exporter (beside slurmctld; Prometheus scrapes it). */
export const SLURM_EXPORTER_PORT = 9341;
/** Where the pod mounts the munge key Secret; the entrypoint copies it where munged wants it. */
export const MUNGE_SECRET_DIR = '/etc/labgen/munge';
/** Fixed IDs: files on the state volume keep their owner across image rebuilds. */
const IDS = { munge: 990, slurm: 991 } as const;

/** The newest Debian release among the Slurm Pis: slurmctld may be newer than a slurmd, never older. */
export function slurmRelease(lab: Lab): Release {
  const releases = (lab.slurm?.nodes ?? []).map((name) => lab.pis.nodes.find((n) => n.name === name)?.os ?? lab.pis.os);
  return newestRelease(releases) ?? lab.pis.os;
}

export function dockerfile(lab: Lab): string {
  const release = slurmRelease(lab);
  return render('k8s/slurm/Dockerfile', {
    lab,
    release,
    version: SLURM_OF_RELEASE[release],
    baseImage: UPSTREAM.debianImage[release],
    ids: IDS,
    exporterPort: SLURM_EXPORTER_PORT,
  });
}

export function entrypoint(): string {
  return render('k8s/slurm/entrypoint.sh', { mungeSecretDir: MUNGE_SECRET_DIR });
}

/** labgen's Slurm exporter: sinfo and squeue, as Prometheus text on /metrics. Small on purpose. Verbatim: Python's two blank lines between functions stay. */
export function slurmExporter(): string {
  return render('k8s/slurm/slurm-exporter.py', { port: SLURM_EXPORTER_PORT }, { verbatim: true });
}

/** Image tag: the Slurm version, then a hash of what the image is built from (a change rolls the pod). */
export function slurmImage(lab: Lab): string {
  const hash = createHash('sha256').update(dockerfile(lab)).update(entrypoint()).update(slurmExporter()).digest('hex').slice(0, 12);
  return `${registryHost(lab)}/labgen/slurmctld:${SLURM_OF_RELEASE[slurmRelease(lab)]}-${hash}`;
}

/**
 * build-and-push.sh, run on the laptop (podman or docker): build this folder, log in to the lab
 * registry with its password from .labgen/secrets/, push. podman is given the lab CA directly;
 * docker needs it in /etc/docker/certs.d/<registry>/ (the script says how).
 */
export function buildAndPushScript(lab: Lab): string {
  return render('k8s/slurm/build-and-push.sh', {
    image: slurmImage(lab),
    registry: registryHost(lab),
    user: REGISTRY_USER,
    passwordFile: `${SECRETS_DIR}/${SECRET.registryPassword}`,
  });
}
