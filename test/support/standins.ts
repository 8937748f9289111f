/**
 * Stand-ins for programs a test host cannot run for real: no systemd runs as PID 1 and no
 * NetworkManager runs there. Each records its calls in /var/log/standin.log; the tests that use
 * them say so in their names.
 */

export const SYSTEMCTL = `#!/bin/bash
# test-host stand-in for systemctl (no systemd as PID 1 here): records every call, keeps unit states
# in files. Shell builtins only: a real systemctl is one process, and so is this (no mkdir/touch).
state=/var/lib/standin; [ -d "$state" ] || mkdir -p "$state"
echo "systemctl $*" >> /var/log/standin.log
cmd=$1; shift
quiet=0; [ "\${1:-}" = --quiet ] && { quiet=1; shift; }
# query STATE-FILE-PREFIX YES NO UNIT...: one line per unit (unless --quiet); as systemctl(1) says,
# exit 0 if at least one is YES
query() {
  local prefix=$1 yes=$2 no=$3 rc=1 u s; shift 3
  for u in "$@"; do
    if [ -e "$state/$prefix-$u" ]; then s=$yes; rc=0; else s=$no; fi
    [ "$quiet" = 1 ] || echo "$s"
  done
  return "$rc"
}
case "$cmd" in
  is-enabled) query enabled enabled disabled "$@" || exit 1 ;;
  is-active) query active active inactive "$@" || exit 3 ;;
  enable) for u in "$@"; do : > "$state/enabled-$u"; done ;;
  start|restart) for u in "$@"; do : > "$state/active-$u"; done ;;
  *) exit 0 ;;
esac
`;

export const NMCLI = `#!/bin/bash
# test-host stand-in for nmcli (no NetworkManager here): \`connection up NAME\` gives eth0 the keyfile's
# address1 with ip(8), inside this host's network namespace; every call is recorded
echo "nmcli $*" >> /var/log/standin.log
if [ "$1 $2" = "connection up" ]; then
  addr=$(sed -n 's/^address1=\\([^,]*\\).*/\\1/p' "/etc/NetworkManager/system-connections/$3.nmconnection")
  [ -n "$addr" ] || { echo "nmcli stand-in: no address1 in $3" >&2; exit 1; }
  ip addr flush dev eth0 && ip addr add "$addr" dev eth0
fi
`;

/** nmcli that only records its calls (setup.sh tests: the address stays where it is) */
export const NMCLI_RECORDER = `#!/bin/bash
# test-host stand-in for nmcli (no NetworkManager here): records every call
echo "nmcli $*" >> /var/log/standin.log
`;

/**
 * systemctl like SYSTEMCTL, but it knows which units are installed: a unit exists when
 * /var/lib/standin/unit-UNIT does (mark it before the run). Starting, restarting or reloading
 * one that does not exist fails as the real one does ("Unit … not found.", exit 5): a VM without
 * systemd-resolved (a Debian 12 box) answers `systemctl restart systemd-resolved` that way.
 */
export const SYSTEMCTL_KNOWN_UNITS = SYSTEMCTL.replace(
  '\ncase "$cmd" in\n',
  `
case "$cmd" in start|restart|reload|try-restart|reload-or-restart)
  for u in "$@"; do
    [ -e "$state/unit-$u" ] || { echo "Failed to $cmd $u.service: Unit $u.service not found." >&2; exit 5; }
  done ;;
esac
case "$cmd" in
`,
).replace('# test-host stand-in for systemctl', '# test-host stand-in for systemctl (with installed units)');

/** resolvconf(8) stand-in (resolvconf is not installed here): `-u` writes resolv.conf.d/head as /etc/resolv.conf */
export const RESOLVCONF = `#!/bin/bash
# test-host stand-in for resolvconf: records every call; -u makes /etc/resolv.conf from head
echo "resolvconf $*" >> /var/log/standin.log
if [ "\${1:-}" = -u ]; then cat /etc/resolvconf/resolv.conf.d/head > /etc/resolv.conf; fi
`;
