import { shellQuote as q } from '../../generator/common/quote.js';

/**
 * What adopt puts on a stock Pi, as root, in one command: the lab user (made if absent, with
 * passwordless sudo so push's `sudo -n` works), the lab key and `pis.authorizedKeys` in its
 * authorized_keys (missing lines appended, the user's own kept), and labgen's host key for the
 * Pi in place of the stock ed25519 key, offered by sshd, which is reloaded: new connections get
 * the key, the ones open now (this one) stay. Every file goes in as a temp beside it, then one
 * rename, and only when it differs: a second run changes nothing and reloads nothing.
 *
 * The secrets come on stdin, never on the command line (which other users of the Pi can read in
 * /proc): one base64 line each, the host key, its public half, the authorized keys.
 */

export const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';

export interface InstallInput {
  /** the lab user (lab.pis.user) */
  user: string;
  /** labgen's host key for this Pi (OpenSSH private key text) and its public line */
  hostKey: { private: string; public: string };
  /** public key lines for the lab user: the lab key first, then pis.authorizedKeys */
  authorizedKeys: string[];
}

/** What the script reports on stdout, one word a line, for the notes. */
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
  const lines = [i.hostKey.private, i.hostKey.public, i.authorizedKeys.map((k) => `${k.trim()}\n`).join('')].map(b64);
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
    'if [ -f "$ak" ]; then cat -- "$ak" > "$tmp"; fi',
    'if [ -s "$tmp" ] && [ -n "$(tail -c 1 "$tmp")" ]; then echo >> "$tmp"; fi', // a last line without its newline
    // a key is there when its base64 blob is, whatever the comment or options around it
    'while IFS= read -r line; do',
    '  blob=$(printf "%s\\n" "$line" | cut -d" " -f2)',
    '  grep -qF -- "$blob" "$tmp" || printf "%s\\n" "$line" >> "$tmp"',
    'done < "$dir/keys"',
    'if cmp -s "$tmp" "$ak"; then rm -f -- "$tmp"; else chown "$user:$group" "$tmp"; chmod 0600 "$tmp"; mv -f -- "$tmp" "$ak"; echo keys-added; fi',
    'chown "$user:$group" "$ak"; chmod 0600 "$ak"', // sshd's StrictModes: a group-writable file is not read
  ];
}

/** labgen's host key in place of the stock ed25519 key, sshd told to offer it, and reloaded. */
function hostKeyPart(): string[] {
  return [
    `key=${HOST_KEY}`,
    'tk=$(temp "$key"); tp=$(temp "$key.pub")',
    'cp -- "$dir/key" "$tk"; chmod 0600 "$tk"',
    'cp -- "$dir/pub" "$tp"; chmod 0644 "$tp"',
    // the pair must belong together: sshd serves the private half, `ssh-keygen -lf` shows the public one
    '[ "$(ssh-keygen -y -f "$tk" | cut -d" " -f1,2)" = "$(cut -d" " -f1,2 "$tp")" ] || fail "the host key and its .pub do not match"',
    'changed=0',
    'if cmp -s "$tk" "$key"; then rm -f -- "$tk"; else mv -f -- "$tk" "$key"; changed=1; fi',
    'if cmp -s "$tp" "$key.pub"; then rm -f -- "$tp"; else mv -f -- "$tp" "$key.pub"; changed=1; fi',
    '[ "$changed" = 0 ] || echo host-key-replaced',
    'chown root:root "$key" "$key.pub"; chmod 0600 "$key"; chmod 0644 "$key.pub"',
    // the lab pins the ed25519 key only: sshd must offer it. Stock sshd_config names no HostKey (the
    // defaults include it); one that names others gets it added through sshd_config.d
    'offers() { conf=$(sshd -T) || fail "sshd -T cannot read the sshd config"; printf "%s\\n" "$conf" | grep -qxF "hostkey $key"; }',
    'if ! offers; then',
    // 00-: sshd serves the first key of a type it reads, and Debian's sshd_config Includes sshd_config.d first
    '  dropin=/etc/ssh/sshd_config.d/00-labgen-host-key.conf',
    '  tmp=$(temp "$dropin")',
    `  printf '# labgen: the host key the lab pins for this Pi\\nHostKey %s\\n' "$key" > "$tmp"; chmod 0644 "$tmp"; mv -f -- "$tmp" "$dropin"`,
    '  echo sshd-config-written; changed=1',
    '  offers || fail "sshd does not offer $key even with $dropin (does sshd_config Include sshd_config.d?)"',
    'fi',
    'if [ "$changed" = 1 ]; then',
    '  sshd -t || fail "sshd -t refuses the config: sshd not reloaded"',
    // a reload re-executes the listener: the sessions open now (this one) stay
    '  if [ -d /run/systemd/system ]; then systemctl try-reload-or-restart ssh.service',
    '  elif [ -f /run/sshd.pid ]; then kill -HUP "$(cat /run/sshd.pid)"',
    '  else fail "cannot tell sshd to reload: no systemd, no /run/sshd.pid"; fi',
    '  echo sshd-reloaded',
    'fi',
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
    'read -r k; read -r p; read -r a',
    'printf "%s" "$k" | base64 -d > "$dir/key"; printf "%s" "$p" | base64 -d > "$dir/pub"; printf "%s" "$a" | base64 -d > "$dir/keys"',
    ...userPart(user),
    ...hostKeyPart(),
  ].join('\n');
}

/** The script's stdout as what it did, in words. */
export function reportOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l): l is Report => l in REPORTS)
    .map((l) => REPORTS[l]);
}
