import type { Lab } from '../../model/defaults.js';
import { SECRET } from '../../secrets/paths.js';
import { MODE } from '../file-spec.js';
import { marker } from '../../common/quote.js';
import { cgroupConf } from '../slurm/cgroup-conf.js';
import { requireSlurm, SLURM_CONF_DIR, SLURM_PORTS, slurmConf, slurmController } from '../slurm/slurm-conf.js';
import type { PiContext, PiFile, PiPlanner } from './part.js';

/**
 * A Slurm Pi's part (see slurm/slurm-conf.ts for the lab's Slurm): munge authenticates every
 * message with the lab's one key, placed from the secrets (never in the plan); compute Pis run
 * a configless slurmd; the controller Pi, if the controller is a Pi, gets /etc/slurm/ too.
 */

/** `--conf-server` of every slurmd: where slurmctld listens. */
export function confServer(lab: Lab): string {
  requireSlurm(lab);
  return `${slurmController(lab).ip}:${SLURM_PORTS.slurmctld}`;
}

function slurmdDefaults(lab: Lab): PiFile {
  return {
    path: '/etc/default/slurmd',
    mode: MODE.file,
    restart: ['slurmd'],
    contents: [
      marker('#'),
      '#',
      '# slurmd runs "configless": it fetches slurm.conf and cgroup.conf from slurmctld at start,',
      '# so this Pi keeps no copy that could drift from the controller.',
      `SLURMD_OPTIONS="--conf-server ${confServer(lab)}"`,
      '',
    ].join('\n'),
  };
}

/**
 * Debian's slurmd.service only starts when /etc/slurm/slurm.conf exists (ConditionPathExists),
 * which a configless node never has: the empty assignment clears that condition. slurmd also
 * restarts after a failure, e.g. while slurmctld is still coming up in the cluster.
 */
function slurmdDropIn(): PiFile {
  return {
    path: '/etc/systemd/system/slurmd.service.d/labgen-configless.conf',
    mode: MODE.file,
    restart: ['slurmd'],
    contents: [
      marker('#'),
      '#',
      '# Configless slurmd (SLURMD_OPTIONS in /etc/default/slurmd): no /etc/slurm/slurm.conf to wait for.',
      '[Unit]',
      'ConditionPathExists=',
      '',
      '[Service]',
      'Restart=on-failure',
      'RestartSec=10s',
      '',
    ].join('\n'),
  };
}

/**
 * A Slurm Pi: munge with the lab's key and a configless slurmd (slurm-client too, so sinfo and
 * srun work on every Pi). The controller Pi also gets /etc/slurm/ and runs slurmctld.
 */
export const slurmPi: PiPlanner = (ctx: PiContext) => {
  const { lab, node } = ctx;
  if (!lab.slurm) return {};
  const compute = lab.slurm.nodes.includes(node.name);
  const controller = lab.slurm.controller === node.name;
  if (!compute && !controller) return {};
  const files: PiFile[] = [];
  const packages = ['munge', 'slurm-client'];
  const services = ['munge'];
  if (compute) {
    files.push(slurmdDefaults(lab), slurmdDropIn());
    packages.push('slurmd');
    services.push('slurmd');
  }
  if (controller) {
    files.push(
      { path: `${SLURM_CONF_DIR}/slurm.conf`, contents: slurmConf(lab), mode: MODE.file, restart: ['slurmctld'] },
      { path: `${SLURM_CONF_DIR}/cgroup.conf`, contents: cgroupConf(lab), mode: MODE.file, restart: ['slurmctld'] },
    );
    packages.push('slurmctld');
    services.push('slurmctld');
  }
  return {
    files,
    packages,
    services,
    // the raw 1024 bytes munged reads; a changed key restarts munge (slurm daemons ask it per message)
    secrets: [{ secret: SECRET.mungeKey, path: '/etc/munge/munge.key', mode: 0o400, owner: 'munge:munge', restart: ['munge'] }],
  };
};
