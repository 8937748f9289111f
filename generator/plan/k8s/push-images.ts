import type { Lab } from '../../model/defaults.js';
import { SECRET } from '../../secrets/paths.js';
import { REGISTRY_USER } from '../../secrets/store.js';
import { marker, shellQuote } from '../../common/quote.js';
import { fqdn } from './common.js';
import { SECRETS_DIR } from '../../common/layout.js';

/**
 * k8s/registry/push-images.sh: seed 003's loop that copies the cluster's images into the lab
 * registry, for containerd instead of docker. It runs on a VM (as root: containerd's socket is
 * root's), which sees neither k8s/ nor the lab's secrets (the Vagrantfile syncs it only its own
 * files): the script is uploaded, the registry password comes on its stdin, never on a command
 * line. nerdctl is used when a node has it; kubeadm nodes have only ctr and crictl, and ctr is
 * enough: list, tag, push (one platform: CRI pulled only the node's own).
 */

/** How to run it on `vm`, from the lab folder: the lab guide says the same. */
export const usage = (vm: string) => [
  `vagrant upload ${SCRIPT} /tmp/push-images.sh ${vm}`,
  `vagrant ssh ${vm} --no-tty -c 'sudo bash /tmp/push-images.sh' < ${SECRETS_DIR}/${SECRET.registryPassword}`,
];
const SCRIPT = 'k8s/registry/push-images.sh';

export function pushImagesScript(lab: Lab): string {
  const q = shellQuote;
  return [
    '#!/usr/bin/env bash',
    marker('#'),
    '#',
    '# Copies every image this node has (the images the cluster runs) into the lab registry, as',
    '# <registry>/<original name>, so the lab can pull them without the internet. Run on a VM,',
    '# from the lab folder, with the registry password on its stdin:',
    ...usage('<vm>').map((l) => `#   ${l}`),
    '# containerd trusts the lab CA through /etc/containerd/certs.d/<registry>/hosts.toml.',
    'set -euo pipefail',
    '',
    `registry=${q(fqdn(lab, 'registry'))}`,
    `user='${REGISTRY_USER}'`,
    'password_file=${REGISTRY_PASSWORD_FILE:-/dev/stdin}',
    'hosts_dir=/etc/containerd/certs.d',
    'ns=k8s.io',
    '',
    'if [ "$(id -u)" -ne 0 ]; then',
    '  echo "push-images.sh: run as root (sudo): containerd\'s socket is root\'s" >&2',
    '  exit 1',
    'fi',
    'if [ "$password_file" = /dev/stdin ] && [ -t 0 ]; then',
    `  echo "push-images.sh: the registry password comes on stdin: < ${SECRETS_DIR}/${SECRET.registryPassword} (or set REGISTRY_PASSWORD_FILE)" >&2`,
    '  exit 1',
    'fi',
    'if [ ! -r "$password_file" ]; then',
    '  echo "push-images.sh: no registry password at $password_file (set REGISTRY_PASSWORD_FILE)" >&2',
    '  exit 1',
    'fi',
    'password=$(tr -d \'\\n\' <"$password_file")',
    'platform="linux/$(dpkg --print-architecture)"',
    '',
    '# image names (no digests, no bare IDs), except those already in the lab registry',
    'images() {',
    '  ctr -n "$ns" images ls -q | grep -v -e \'@sha256:\' -e \'^sha256:\' -e "^$registry/" | sort -u',
    '}',
    '',
    'if command -v nerdctl >/dev/null 2>&1; then',
    '  printf \'%s\' "$password" | nerdctl login --username "$user" --password-stdin "$registry" >/dev/null',
    '  push() { nerdctl -n "$ns" tag "$1" "$2" && nerdctl -n "$ns" push --platform "$platform" "$2"; }',
    'else',
    '  # ctr takes the password on its command line: this VM is root-only, and it is the lab\'s password',
    '  push() {',
    '    ctr -n "$ns" images tag --force "$1" "$2" >/dev/null',
    '    ctr -n "$ns" images push --hosts-dir "$hosts_dir" --platform "$platform" --user "$user:$password" "$2"',
    '  }',
    'fi',
    '',
    'failed=0',
    'while IFS= read -r image; do',
    '  target="$registry/$image"',
    '  echo "push-images.sh: $image -> $target"',
    '  if ! push "$image" "$target"; then',
    '    echo "push-images.sh: failed: $image" >&2',
    '    failed=$((failed + 1))',
    '  fi',
    'done < <(images)',
    '[ "$failed" -eq 0 ] || { echo "push-images.sh: $failed image(s) failed" >&2; exit 1; }',
    '',
  ].join('\n');
}
