/**
 * Stand-ins for what provisioning an existing host runs that cannot run, or must not, on a test
 * host (test/support/test-hosts.ts: a network namespace whose root is an overlay of this
 * machine's `/`, private to it, but sharing this machine's kernel): no kubelet, API server or
 * containerd daemon runs there, no package repository is reachable, and swap, sysctls and kernel
 * modules are the kernel's, this machine's own. Each records its calls, with the time in ns (the
 * hosts share the clock: the order across hosts), in the host's /var/log/standin.log; the
 * tests that use them say so in their names.
 *
 * `hostStandIns(...)` is a `files` map for startHosts: every stand-in in /usr/local/sbin, first on
 * the PATH labgen's SSH commands run with. Their state is in /var/lib/standin.
 */
import { fingerprint, publicKeyBlob } from '../../drivers/base/known-hosts.js';
import { SYSTEMCTL } from '../support/standins.js';
import type { TestHost } from '../support/test-hosts.js';

const HEAD = (what: string) => `#!/bin/bash
# labgen test-host stand-in for ${what}: records every call (ns time first) in /var/log/standin.log
state=/var/lib/standin; [ -d "$state" ] || mkdir -p "$state"
log() { echo "$(date +%s%N) $*" >>/var/log/standin.log; }
# installs ARGS...: the packages an "install" command line names, one a line (its options left out)
installs() { local a seen=0; for a in "$@"; do [ "$a" = install ] && { seen=1; continue; }; [ "$seen" = 1 ] && [ "\${a#-}" = "$a" ] && echo "$a"; done; return 0; }
`;

/** kubeadm: init leaves admin.conf and the CA; token create/delete keep the token's expiry; join records the token it joined with; reset removes what init and join left. */
const KUBEADM = `${HEAD('kubeadm (no kubelet or API server can run here)')}log "kubeadm $*"
case "$1" in
  init)
    mkdir -p /etc/kubernetes/pki
    cp "$state/admin.conf" /etc/kubernetes/admin.conf
    echo 'stand-in cluster CA' >/etc/kubernetes/pki/ca.crt ;;
  token)
    id=\${3%%.*}
    case "$2" in
      create)
        ttl=''; prev=''
        for a in "$@"; do [ "$prev" = --ttl ] && ttl=$a; prev=$a; done
        [ "$ttl" = 24h ] || { echo "kubeadm stand-in: token create without --ttl 24h" >&2; exit 1; }
        date -u -d '+24 hours' +%Y-%m-%dT%H:%M:%SZ >"$state/token-$id" ;;
      delete) [ -e "$state/token-$id" ] || exit 1; rm -f "$state/token-$id" ;;
    esac ;;
  join)
    prev=''; config=''
    for a in "$@"; do [ "$prev" = --config ] && config=$a; prev=$a; done
    file=$(sed -n 's/^ *kubeConfigPath: //p' "$config")
    token=$(sed -n 's/.*set-credentials bootstrap --token=\\([^ ]*\\).*/\\1/p' "$file")
    log "joined config=$config discovery=$file token=$token"
    mkdir -p /etc/kubernetes && : >/etc/kubernetes/kubelet.conf ;;
  reset)
    # what kubeadm reset removes of what init and join made here
    rm -rf /etc/kubernetes/admin.conf /etc/kubernetes/kubelet.conf /etc/kubernetes/pki /etc/kubernetes/manifests ;;
esac
exit 0
`;

/**
 * kubectl on the host: \`config\` writes its arguments as lines of the kubeconfig it is given (what
 * kubeadm join reads back above); what control-plane.sh applies is remembered, so the next get finds it.
 */
const KUBECTL = `${HEAD('kubectl (no API server can run here)')}log "kubectl $*"
kc=''; args=()
for a in "$@"; do case $a in --kubeconfig=*) kc=\${a#--kubeconfig=} ;; *) args+=("$a") ;; esac; done
set -- "\${args[@]}"
case " $* " in
  " config "*) shift; echo "$*" >>"$kc" ;;
  *" apply "*) [[ " $* " == *" -f - "* ]] && cat >/dev/null; : >"$state/applied" ;;
  *" get secret bootstrap-token-"*)
    for a in "$@"; do case $a in bootstrap-token-*) id=\${a#bootstrap-token-} ;; esac; done
    [ -s "$state/token-$id" ] || exit 1
    printf '%s' "$(cat "$state/token-$id")" | base64 -w0 ;;
  *" get --raw /version "*) echo '{"gitVersion":"v1.37.0"}' ;;
  *" get "*) [ -e "$state/applied" ] ;;
esac
`;

/** curl: the Kubernetes repository's signing key and the CNI manifest it would download; anything else fails (no route out). */
const CURL = `${HEAD('curl (nothing off this machine is reachable)')}log "curl $*"
url=''; for a in "$@"; do case $a in http*) url=$a ;; esac; done
case $url in
  *pkgs.k8s.io*/Release.key) cat "$state/release.key" ;;
  *kube-flannel.yml) printf 'kind: ConfigMap\\ndata:\\n  net-conf.json: |\\n    { "Network": "10.244.0.0/16" }\\n' ;;
  *) echo "curl stand-in: $url is not reachable here" >&2; exit 22 ;;
esac
`;

/**
 * apt-get: install puts each package into dpkg's status file (the host's overlay), in place of
 * the entry it had (this machine may have a kubectl of its own), so dpkg-query knows it next time.
 */
const APT_GET = `${HEAD("apt-get and the Kubernetes apt repository (no repository is reachable here)")}log "apt-get $*"
installs "$@" | while read -r a; do
  name=\${a%%=*}; version=1.37.0-1.1
  [ "$name" != "$a" ] && version="\${a#*=}" && version="\${version%-\\*}-1.1"
  awk -v p="Package: $name" 'BEGIN { RS = ""; ORS = "\\n\\n" } { split($0, l, "\\n") } l[1] != p' /var/lib/dpkg/status >/var/lib/dpkg/status.standin
  mv /var/lib/dpkg/status.standin /var/lib/dpkg/status
  printf '\\nPackage: %s\\nStatus: install ok installed\\nPriority: optional\\nSection: admin\\nInstalled-Size: 1\\nMaintainer: labgen test stand-in\\nArchitecture: all\\nVersion: %s\\nDescription: labgen test stand-in\\n' "$name" "$version" >>/var/lib/dpkg/status
done
`;

/** apt-mark: hold/unhold kept in the stand-in's state, showhold answers from it (dpkg's selections are this machine's). */
const APT_MARK = `${HEAD("apt-mark (holds kept apart from this machine's dpkg selections)")}log "apt-mark $*"
holds="$state/apt-holds"; touch "$holds"
cmd=$1; shift
case $cmd in
  hold) for p; do grep -qx "$p" "$holds" || echo "$p" >>"$holds"; done ;;
  unhold) for p; do grep -vx "$p" "$holds" >"$holds.new" || true; mv "$holds.new" "$holds"; done ;;
  showhold) if [ $# -eq 0 ]; then sort "$holds"; else for p; do grep -x "$p" "$holds" || true; done; fi ;;
esac
`;

const RECORDER = (cmd: string, why: string) => `${HEAD(`${cmd} (${why})`)}log "${cmd} $*"
`;

/** swapon --show: one swap file until swapoff ran (this machine's swap is the kernel's: never touched). */
const SWAPON = `${HEAD("swapon (swap is this machine's kernel's)")}log "swapon $*"
[ -e "$state/swapoff" ] || echo '/swap.img file 1024M 0B -2'
`;
const SWAPOFF = `${HEAD("swapoff (swap is this machine's kernel's)")}log "swapoff $*"
: >"$state/swapoff"
`;

/** containerd --version: a release that fits the Kubernetes under test (no containerd daemon runs here). */
const containerd = (version: string) => `${HEAD('containerd (no containerd daemon runs here)')}log "containerd $*"
echo "containerd containerd.io v${version} stand-in"
`;

/** RHEL family: dnf install adds to the stand-in rpm database, rpm -q answers from it. */
const DNF = `${HEAD('dnf and the Kubernetes rpm repository (no repository is reachable here)')}log "dnf $*"
installs "$@" | while read -r a; do
  name=\${a%%-[0-9]*}; version=1.37.0
  [ "$name" != "$a" ] && version=\${a#"$name"-}
  echo "$name $version" >>"$state/rpms"
done
`;
const RPM = `${HEAD('rpm (no rpm database here)')}log "rpm $*"
[ "$1" = -q ] || exit 0
shift; qf=''
[ "$1" = --qf ] && { qf=$2; shift 2; }
rc=0
for p in "$@"; do
  v=$(awk -v p="$p" '$1 == p { print $2 }' "$state/rpms" 2>/dev/null | tail -n1)
  if [ -z "$v" ]; then echo "package $p is not installed"; rc=1
  elif [ -n "$qf" ]; then printf '%s' "$v"
  else echo "$p-$v"; fi
done
exit "$rc"
`;
const GETENFORCE = `${HEAD("getenforce (SELinux is this machine's kernel's)")}log "getenforce $*"
cat "$state/selinux" 2>/dev/null || echo Enforcing
`;
const SETENFORCE = `${HEAD("setenforce (SELinux is this machine's kernel's)")}log "setenforce $*"
[ "$1" = 0 ] && echo Permissive >"$state/selinux"
exit 0
`;
const FIREWALL_CMD = `${HEAD('firewall-cmd (no firewalld here)')}log "firewall-cmd $*"
case " $* " in
  *" --state "*) echo running ;;
  *" --list-ports "*) tr '\\n' ' ' <"$state/ports" 2>/dev/null; echo ;;
  *" --reload "*) ;;
  *) for a in "$@"; do case $a in --add-port=*) echo "\${a#--add-port=}" >>"$state/ports" ;; esac; done ;;
esac
`;

/** Rocky Linux 9's /etc/os-release, as the distribution ships it (the fields common.sh reads). */
export const ROCKY_OS_RELEASE = `NAME="Rocky Linux"
VERSION="9.5 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.5"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
`;

const exe = (content: string) => ({ content, mode: 0o755 });

/**
 * Every stand-in a host needs, in /usr/local/sbin; `admin` is the admin.conf kubeadm init leaves,
 * `releaseKey` the armored key the Kubernetes repository serves, `containerdVersion` one that fits.
 * With `rocky`, the host says it is Rocky Linux 9 (its real /etc/os-release, in its own root) and
 * has dnf, rpm, SELinux and firewalld stand-ins.
 */
export function hostStandIns(o: { admin: string; releaseKey: string; containerdVersion: string; rocky?: boolean }): Record<string, string | { content: string; mode: number }> {
  const sbin = (name: string) => `/usr/local/sbin/${name}`;
  const files: Record<string, string | { content: string; mode: number }> = {
    [sbin('systemctl')]: exe(SYSTEMCTL),
    [sbin('kubeadm')]: exe(KUBEADM),
    [sbin('kubectl')]: exe(KUBECTL),
    [sbin('curl')]: exe(CURL),
    [sbin('apt-get')]: exe(APT_GET),
    [sbin('apt-mark')]: exe(APT_MARK),
    [sbin('swapon')]: exe(SWAPON),
    [sbin('swapoff')]: exe(SWAPOFF),
    [sbin('sysctl')]: exe(RECORDER('sysctl', "the sysctls are this machine's kernel's")),
    [sbin('modprobe')]: exe(RECORDER('modprobe', "the modules are this machine's kernel's")),
    [sbin('containerd')]: exe(containerd(o.containerdVersion)),
    '/var/lib/standin/admin.conf': o.admin,
    '/var/lib/standin/release.key': o.releaseKey,
  };
  if (!o.rocky) return files;
  return {
    ...files,
    '/etc/os-release': ROCKY_OS_RELEASE,
    '/etc/selinux/config': '# This file controls the state of SELinux on the system.\nSELINUX=enforcing\nSELINUXTYPE=targeted\n',
    [sbin('dnf')]: exe(DNF),
    [sbin('rpm')]: exe(RPM),
    [sbin('getenforce')]: exe(GETENFORCE),
    [sbin('setenforce')]: exe(SETENFORCE),
    [sbin('firewall-cmd')]: exe(FIREWALL_CMD),
    [sbin('update-ca-trust')]: exe(RECORDER('update-ca-trust', "the RHEL family's trust store tool; this machine is Debian")),
  };
}

/** What the stand-ins on a test host recorded, read from it. */
export const standInLog = async (h: Pick<TestHost, 'exec'>) => parseStandInLog((await h.exec('cat /var/log/standin.log 2>/dev/null || true')).stdout);
/** The calls matching `re`. */
export const standInCalls = async (h: Pick<TestHost, 'exec'>, re: RegExp) => (await standInLog(h)).filter((c) => re.test(c.line));
/** The SHA256 fingerprint of a test host's key, as `--fingerprint` takes it. */
export const hostFingerprint = (h: Pick<TestHost, 'hostKey'>) => fingerprint(publicKeyBlob(h.hostKey));

/** The stand-in log of a host: `[ns, command line]` per call. */
export function parseStandInLog(text: string): { ns: bigint; line: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      const m = /^(\d+) (.*)$/.exec(l);
      return m ? [{ ns: BigInt(m[1]!), line: m[2]! }] : [];
    });
}

/** kubectl on this machine: records its calls; every node of LABGEN_TEST_NODES is Ready; draining LABGEN_TEST_DRAIN_FAIL fails; the lab CA's secret is a stand-in CA; the rest succeeds. */
export const LAPTOP_KUBECTL = `#!/bin/bash
# labgen test stand-in for kubectl on this machine (no API server answers here): records every call
echo "kubectl $*" >>"$LABGEN_TEST_BED/kubectl.log"
# the kubeconfig it is given: where it would reach the API, and the name it would check its certificate for
kc=\${KUBECONFIG:-}
for a in "$@"; do case $a in --kubeconfig=*) kc=\${a#--kubeconfig=} ;; esac; done
server=$(sed -n 's/^ *server: //p' "$kc")
echo "server=$server tls-server-name=$(sed -n 's/^ *tls-server-name: //p' "$kc")" >>"$LABGEN_TEST_BED/kubectl.log"
# a local end (the tunnel through the bastion): what answers there
case $server in https://127.0.0.1:*)
  port=\${server##*:}
  exec 3<>"/dev/tcp/127.0.0.1/$port" && read -r -t 10 said <&3 && echo "the API end said: $said" >>"$LABGEN_TEST_BED/kubectl.log"
  exec 3<&- ;;
esac
# a drain that fails (a node that is down: its pods never leave), for the node LABGEN_TEST_DRAIN_FAIL names
case " $* " in *" drain \${LABGEN_TEST_DRAIN_FAIL:-none} "*) echo "error: unable to drain node \"\${LABGEN_TEST_DRAIN_FAIL}\": timed out (stand-in)" >&2; exit 1 ;; esac
case " $* " in
  *" get nodes "*)
    items=''
    for n in $LABGEN_TEST_NODES; do
      items+="\${items:+,}{\\"metadata\\":{\\"name\\":\\"$n\\"},\\"status\\":{\\"conditions\\":[{\\"type\\":\\"Ready\\",\\"status\\":\\"True\\"}]}}"
    done
    echo "{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"List\\",\\"items\\":[$items]}" ;;
  *" get secret lab-ca "*) printf '%s' "$LABGEN_TEST_CA" | base64 -w0 ;;
esac
exit 0
`;
