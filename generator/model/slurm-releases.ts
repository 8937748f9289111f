import type { PI_OS } from './schema.js';

/**
 * Slurm on each Raspberry Pi OS release (Debian's slurm-wlm packages: a Pi runs the Slurm of its
 * release, nothing else), and which of them can work together. slurmctld talks to a slurmd of
 * its own major release or of a few before it (Slurm's "compatibility window": two majors, three
 * from 24.11 on), never to a newer one; the RPCs of two Slurms outside it fail ("Incompatible
 * versions of client and server code"), so the node never registers.
 */

export type PiRelease = (typeof PI_OS)[number];

/** Oldest first. */
export const PI_RELEASE_ORDER: readonly PiRelease[] = ['bullseye', 'bookworm', 'trixie'];

export const SLURM_OF_RELEASE: Readonly<Record<PiRelease, string>> = { bullseye: '20.11', bookworm: '22.05', trixie: '24.11' };

/** Slurm's major releases in order, from the oldest a Raspberry Pi OS release ships. */
const MAJORS = ['20.11', '21.08', '22.05', '23.02', '23.11', '24.05', '24.11'] as const;

const rank = (release: PiRelease) => MAJORS.indexOf(SLURM_OF_RELEASE[release] as (typeof MAJORS)[number]);

/** How many majors older than slurmctld's a slurmd may be. */
const windowOf = (controller: PiRelease) => (rank(controller) >= MAJORS.indexOf('24.11') ? 3 : 2);

/** The newest of these releases. */
export const newestRelease = (releases: readonly PiRelease[]): PiRelease | undefined =>
  PI_RELEASE_ORDER.filter((r) => releases.includes(r)).pop();

/**
 * Whether a slurmd of `node`'s release works with a slurmctld of `controller`'s: 'ok', 'newer'
 * (the slurmd is newer than slurmctld) or 'older' (older than the window reaches).
 */
export function slurmFit(controller: PiRelease, node: PiRelease): 'ok' | 'newer' | 'older' {
  const behind = rank(controller) - rank(node);
  if (behind < 0) return 'newer';
  return behind > windowOf(controller) ? 'older' : 'ok';
}

/** The oldest Slurm a slurmctld of `controller`'s release still talks to. */
export const oldestSlurmFor = (controller: PiRelease) => MAJORS[rank(controller) - windowOf(controller)]!;
