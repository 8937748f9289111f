import { shellQuote as q } from '../../generator/common/quote.js';
import { hostKeyHelper } from '../../generator/plan/vm/provision.js';

/**
 * What adopt puts on a stock Pi, as root, in one command: the lab user (made if absent, with
 * passwordless sudo so push's `sudo -n` works), the lab key and `pis.authorizedKeys` in its
 * authorized_keys (missing lines appended, the user's own kept), and labgen's host key for the
 * Pi in place of the stock ed25519 key, offered by sshd, which is reloaded: new connections get
 * the key, the ones open now (this one) stay. The host key goes in through labgen-host-key, the
 * script a VM's provisioning runs too (templates/provision/files/usr/local/sbin/): one way to
 * install a host key, whose pending reload a run that failed hands on to the next. Every file
 * goes in as a temp beside it, then one rename, and only when it differs: a second run changes
 * nothing and reloads nothing.
 *
 * The secrets come on stdin, never on the command line (which other users of the Pi can read in
 * /proc): one base64 line each, the host key, its public half, the authorized keys, and the
 * labgen-host-key script.
 */

export const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';
/** what prints, on the Pi, the fingerprint of the key it presents (for the user to compare) */
export const CHECK_KEY = `ssh-keygen -lf ${HOST_KEY}.pub`;

export interface InstallInput {
  /** the lab user (lab.pis.user) */
  user: string;
  /** labgen's host key for this Pi (OpenSSH private key text) and its public line */
  hostKey: { private: string; public: string };
  /** public key lines for the lab user: the lab key first, then pis.authorizedKeys */
  authorizedKeys: string[];
}

/** What the script reports on stdout, one word a line (labgen-host-key: its own lines), for the notes. */
export const REPORTS = {
  'user-created': 'made the lab user',
  'sudoers-written': 'gave it passwordless sudo',
  'keys-added': 'authorized the lab key',
  'host-key-replaced': "replaced the host key with the lab's",
  'sshd-config-written': 'made sshd offer it',
  'sshd-reloaded': 'reloaded sshd',
} as const;
export type Report = keyof typeof REPORTS;

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** The script's stdin (after the sudo password line, when there is one). */
export function installPayload(i: InstallInput): Buffer {
  const lines = [i.hostKey.private, i.hostKey.public, i.authorizedKeys.map((k) => `${k.trim()}\n`).join(''), hostKeyHelper()].map(b64);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** The lab user, its sudo and its authorized_keys (root's own when the lab user is root). */
function userPart(user: string): string[] {
  const lab = q(user);
  return [
    `user=${lab}`,
    'if [ "$user" != root ]; then',
    '  command -v sudo >/dev/null || fail "sudo is not installed: the lab user $user needs it (apt-get install sudo)"',
    '  if ! id -u "$user" >/dev/null 2>&1; then',
    // `*`: no password logs in; unlike a locked `!`, sshd without PAM still takes the user's keys
    '    if getent group sudo >/dev/null; then useradd -m -s /bin/bash -G sudo -p "*" "$user"; else useradd -m -s /bin/bash -p "*" "$user"; fi',
    '    echo user-created',
    '  fi',
    `  sudoers=/etc/sudoers.d/labgen-$user`,
    '  tmp=$(temp "$sudoers")',
    `  printf '# labgen: the lab user runs commands as root without a password (labgen push: sudo -n)\\n%s ALL=(ALL) NOPASSWD: ALL\\n' "$user" > "$tmp"`,
    '  chmod 0440 "$tmp"',
    '  visudo -cqf "$tmp" >/dev/null || fail "visudo refused the sudoers line for $user"',
    '  if cmp -s "$tmp" "$sudoers"; then rm -f -- "$tmp"; else mv -f -- "$tmp" "$sudoers"; echo sudoers-written; fi',
    'fi',
    'group=$(id -gn "$user")',
    'home=$(getent passwd "$user" | cut -d: -f6)',
    '[ -n "$home" ] && [ -d "$home" ] || fail "the home folder of $user ($home) is not there"',
    'install -d -m 0700 -o "$user" -g "$group" "$home/.ssh"',
    'ak=$home/.ssh/authorized_keys',
    'tmp=$(temp "$ak")',
    'if [ -f "$ak" ]; then cat -- "$ak" > "$tmp"; else : > "$tmp"; fi',
    'if [ -s "$tmp" ] && [ -n "$(tail -c 1 "$tmp")" ]; then echo >> "$tmp"; fi', // a last line without its newline
    // a key is there when a line holds it as is: its type and blob the line's first two fields
    // (whatever the comment). Not in a comment (`# ssh-ed25519 AAAA…`), nor after options
    // (`command="…" ssh-ed25519 AAAA…`): sshd would not let it log in as push does
    'while IFS= read -r line; do',
    `  printf '%s\\n' "$line" | awk 'NR == FNR { t = $1; b = $2; next } $1 == t && $2 == b { found = 1 } END { exit !found }' - "$tmp" || printf '%s\\n' "$line" >> "$tmp"`,
    'done < "$dir/keys"',
    'if cmp -s "$tmp" "$ak"; then rm -f -- "$tmp"; else chown "$user:$group" "$tmp"; chmod 0600 "$tmp"; mv -f -- "$tmp" "$ak"; echo keys-added; fi',
    'chown "$user:$group" "$ak"; chmod 0600 "$ak"', // sshd's StrictModes: a group-writable file is not read
  ];
}

/** The script (run as root, `sh`); its stdin is `installPayload`. `token` makes its temp names unique. */
export function installScript(user: string, token: string): string {
  return [
    'set -eu',
    'umask 077',
    'fail() { echo "labgen: $*" >&2; exit 1; }',
    `temp() { printf '%s/.%s.labgen-new-%s\\n' "$(dirname -- "$1")" "$(basename -- "$1")" ${q(token)}; }`,
    'dir=$(mktemp -d)',
    // every temp of this run has the token in its name: an interrupted run leaves none behind
    `trap 'rm -rf -- "$dir"; find /etc/ssh /etc/sudoers.d "\${home:-/nonexistent}/.ssh" -maxdepth 2 -name "*.labgen-new-"${q(token)} -exec rm -f -- {} + 2>/dev/null || true' EXIT`,
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM",
    // dash's read takes stdin a byte at a time: each line is one file
    'read -r k; read -r p; read -r a; read -r s',
    'printf "%s" "$k" | base64 -d > "$dir/key"; printf "%s" "$p" | base64 -d > "$dir/key.pub"',
    'printf "%s" "$a" | base64 -d > "$dir/keys"; printf "%s" "$s" | base64 -d > "$dir/labgen-host-key"',
    ...userPart(user),
    // labgen-host-key: the key in place, sshd made to offer it and reloaded (a reload a failed run owes, too)
    `bash "$dir/labgen-host-key" "$dir/key"`,
  ].join('\n');
}

/** One line of the script's stdout as a Report: its own words, and labgen-host-key's `ssh host key: …` lines. */
function reportOfLine(line: string): Report | undefined {
  if (line in REPORTS) return line as Report;
  const m = /^ssh host key: (changed|reloaded) (\S+)/.exec(line);
  if (!m) return undefined;
  if (m[1] === 'reloaded') return 'sshd-reloaded';
  return m[2]!.startsWith(HOST_KEY) ? 'host-key-replaced' : 'sshd-config-written';
}

/** The script's stdout as what it did, in words, each once. */
export function reportOf(stdout: string): string[] {
  const reports = stdout.split('\n').map((l) => reportOfLine(l.trim()));
  return [...new Set(reports.filter((r): r is Report => r !== undefined))].map((r) => REPORTS[r]);
}
