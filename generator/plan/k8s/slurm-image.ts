import { createHash } from 'node:crypto';
import type { Lab } from '../../model/defaults.js';
import type { PI_OS } from '../../model/schema.js';
import { SECRET, SECRETS_DIR } from '../../secrets/paths.js';
import { REGISTRY_USER } from '../../secrets/store.js';
import { marker, shellQuote } from '../quote.js';
import { UPSTREAM } from '../versions.js';
import { registryHost } from './registry.js';

/**
 * The slurmctld image of k8s/slurm/: Dockerfile, its entrypoint, labgen's Slurm exporter and the
 * script that builds the image and pushes it to the lab registry. slurmctld and slurmd must be
 * within Slurm's version window (slurmctld the newer), so the image is built from the Debian
 * release of the Slurm Pis: the same packages, the same Slurm version as their slurmd.
 */

type Release = (typeof PI_OS)[number];
const RELEASE_ORDER: readonly Release[] = ['bullseye', 'bookworm', 'trixie'];
/** Slurm in each Debian release (Raspberry Pi OS follows Debian's packages). */
export const SLURM_OF_RELEASE: Readonly<Record<Release, string>> = { bullseye: '20.11', bookworm: '22.05', trixie: '24.11' };

/** Port of labgen's Slurm exporter (beside slurmctld; Prometheus scrapes it). */
export const SLURM_EXPORTER_PORT = 9341;
/** Where the pod mounts the munge key Secret; the entrypoint copies it where munged wants it. */
export const MUNGE_SECRET_DIR = '/etc/labgen/munge';
/** Fixed IDs: files on the state volume keep their owner across image rebuilds. */
const IDS = { munge: 990, slurm: 991 } as const;

/** The newest Debian release among the Slurm Pis: slurmctld may be newer than a slurmd, never older. */
export function slurmRelease(lab: Lab): Release {
  const releases = (lab.slurm?.nodes ?? []).map((name) => lab.pis.nodes.find((n) => n.name === name)?.os ?? lab.pis.os);
  return RELEASE_ORDER.filter((r) => releases.includes(r)).pop() ?? lab.pis.os;
}

export function dockerfile(lab: Lab): string {
  const release = slurmRelease(lab);
  const version = SLURM_OF_RELEASE[release];
  return [
    marker('#'),
    `# slurmctld of the ${lab.name} lab: Debian ${release}'s Slurm ${version}, the same as the Pis' slurmd.`,
    '# Build and push it with ./build-and-push.sh.',
    `FROM ${UPSTREAM.debianImage[release]}`,
    '',
    '# fixed IDs before the packages add their users: the state volume keeps its owners',
    `RUN groupadd --system --gid ${IDS.munge} munge \\`,
    `  && useradd --system --uid ${IDS.munge} --gid munge --home-dir /nonexistent --shell /usr/sbin/nologin munge \\`,
    `  && groupadd --system --gid ${IDS.slurm} slurm \\`,
    `  && useradd --system --uid ${IDS.slurm} --gid slurm --home-dir /nonexistent --shell /usr/sbin/nologin slurm`,
    '',
    '# slurm-client for sinfo/squeue (the exporter); python3 runs the exporter',
    'RUN apt-get update \\',
    '  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurm-client munge python3 \\',
    '  && rm -rf /var/lib/apt/lists/* \\',
    `  && slurmctld -V | grep -q '^slurm ${version.replace('.', '\\.')}\\.'`,
    '',
    'COPY entrypoint.sh /usr/local/sbin/labgen-slurmctld',
    'COPY slurm-exporter.py /usr/local/bin/labgen-slurm-exporter',
    'RUN chmod 0755 /usr/local/sbin/labgen-slurmctld /usr/local/bin/labgen-slurm-exporter',
    `EXPOSE 6817 ${SLURM_EXPORTER_PORT}`,
    'ENTRYPOINT ["/usr/local/sbin/labgen-slurmctld"]',
    '',
  ].join('\n');
}

export function entrypoint(): string {
  return [
    '#!/usr/bin/env bash',
    marker('#'),
    '#',
    "# slurmctld's container: munged with the lab's key (from the pod's Secret), then slurmctld in",
    '# the foreground (-D: its log goes to stdout too). slurm.conf is mounted, not baked in.',
    'set -euo pipefail',
    '',
    '# /run/munge is shared with the exporter container, which talks to munged too',
    'install -d -o munge -g munge -m 0755 /run/munge',
    'install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge',
    `install -o munge -g munge -m 0400 ${MUNGE_SECRET_DIR}/munge.key /etc/munge/munge.key`,
    'runuser -u munge -- /usr/sbin/munged',
    '',
    '# the state volume: an NFS export squashes root, so chown may fail there; its folder is',
    '# world-writable (made by the NFS provisioner), which is enough for SlurmUser',
    'state=$(sed -n "s/^StateSaveLocation=//p" /etc/slurm/slurm.conf)',
    'mkdir -p "$state" /var/log/slurm',
    'chown slurm:slurm "$state" /var/log/slurm 2>/dev/null || echo "labgen-slurmctld: cannot chown $state (root-squashed NFS?): leaving it as it is" >&2',
    '',
    'exec slurmctld -D "$@"',
    '',
  ].join('\n');
}

/** labgen's Slurm exporter: sinfo and squeue, as Prometheus text on /metrics. Small on purpose. */
export function slurmExporter(): string {
  return `#!/usr/bin/env python3
${marker('#')}
#
# labgen's Slurm exporter: node, CPU and job counts from sinfo and squeue, as Prometheus text on
# http://:${SLURM_EXPORTER_PORT}/metrics. Run beside slurmctld (same image: same Slurm, same munge).
# --once prints the metrics and exits.
import argparse
import re
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NODE_STATES = ("idle", "allocated", "mixed", "completing", "down", "drained", "draining")
JOB_STATES = ("pending", "running", "completing")


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=20, check=True).stdout


def base_state(state):
    """'down*', 'drained~' -> 'down', 'drained': the flags after the state are dropped."""
    return re.sub(r"[^a-z_]", "", state.lower())


def counts(names, known):
    out = dict.fromkeys(known, 0)
    for name in names:
        out[name] = out.get(name, 0) + 1
    return out


def collect():
    try:
        nodes = {}
        for line in run("sinfo", "-h", "-N", "-o", "%N %T").splitlines():
            name, state = line.split()
            nodes[name] = base_state(state)
        allocated, idle, other, total = (int(n) for n in run("sinfo", "-h", "-o", "%C").split()[0].split("/"))
        jobs = [base_state(s) for s in run("squeue", "-h", "-o", "%T").split()]
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
        print(f"labgen-slurm-exporter: {e}", file=sys.stderr)
        return "# HELP slurm_up 1 if sinfo and squeue answered\\n# TYPE slurm_up gauge\\nslurm_up 0\\n"
    lines = ["# HELP slurm_up 1 if sinfo and squeue answered", "# TYPE slurm_up gauge", "slurm_up 1"]
    lines += ["# HELP slurm_nodes Slurm nodes by state", "# TYPE slurm_nodes gauge"]
    lines += [f'slurm_nodes{{state="{s}"}} {n}' for s, n in sorted(counts(nodes.values(), NODE_STATES).items())]
    lines += ["# HELP slurm_cpus Slurm CPUs by state", "# TYPE slurm_cpus gauge"]
    cpus = {"allocated": allocated, "idle": idle, "other": other, "total": total}
    lines += [f'slurm_cpus{{state="{s}"}} {n}' for s, n in sorted(cpus.items())]
    lines += ["# HELP slurm_jobs Slurm jobs by state", "# TYPE slurm_jobs gauge"]
    lines += [f'slurm_jobs{{state="{s}"}} {n}' for s, n in sorted(counts(jobs, JOB_STATES).items())]
    return "\\n".join(lines) + "\\n"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = collect().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description="Slurm metrics for Prometheus")
    parser.add_argument("--port", type=int, default=${SLURM_EXPORTER_PORT})
    parser.add_argument("--once", action="store_true", help="print the metrics and exit")
    opts = parser.parse_args()
    if opts.once:
        sys.stdout.write(collect())
        return
    ThreadingHTTPServer(("", opts.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
`;
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
  const q = shellQuote;
  return [
    '#!/usr/bin/env bash',
    marker('#'),
    '#',
    "# Builds slurmctld's image from this folder and pushes it to the lab registry. Run it on the",
    '# laptop after `labgen up` (the registry and .labgen/lab-ca.crt exist then):',
    '#   k8s/slurm/build-and-push.sh        (PLATFORM=linux/arm64 to build for other VMs)',
    'set -euo pipefail',
    '',
    'here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)',
    'lab_dir=$(cd "$here/../.." && pwd)',
    `image=${q(slurmImage(lab))}`,
    `registry=${q(registryHost(lab))}`,
    `user='${REGISTRY_USER}'`,
    `password_file="$lab_dir/${SECRETS_DIR}/${SECRET.registryPassword}"`,
    'ca="$lab_dir/.labgen/lab-ca.crt"',
    '',
    'if command -v podman >/dev/null 2>&1; then tool=podman',
    'elif command -v docker >/dev/null 2>&1; then tool=docker',
    'else echo "build-and-push.sh: needs podman or docker" >&2; exit 1; fi',
    'for f in "$password_file" "$ca"; do',
    '  [ -r "$f" ] || { echo "build-and-push.sh: missing $f (run labgen up first)" >&2; exit 1; }',
    'done',
    '',
    'tls=()',
    'if [ "$tool" = podman ]; then',
    '  certs=$(mktemp -d)',
    '  trap \'rm -rf "$certs"\' EXIT',
    '  cp "$ca" "$certs/ca.crt"',
    '  tls=(--cert-dir "$certs")',
    'elif [ ! -f "/etc/docker/certs.d/$registry/ca.crt" ]; then',
    '  echo "build-and-push.sh: docker must trust the lab CA first:" >&2',
    '  echo "  sudo install -D -m 0644 $ca /etc/docker/certs.d/$registry/ca.crt" >&2',
    '  exit 1',
    'fi',
    'build=()',
    '[ -z "${PLATFORM:-}" ] || build=(--platform "$PLATFORM")',
    '',
    '"$tool" build ${build[@]+"${build[@]}"} -t "$image" "$here"',
    '"$tool" login ${tls[@]+"${tls[@]}"} --username "$user" --password-stdin "$registry" <"$password_file"',
    '"$tool" push ${tls[@]+"${tls[@]}"} "$image"',
    'echo "build-and-push.sh: pushed $image"',
    '',
  ].join('\n');
}
