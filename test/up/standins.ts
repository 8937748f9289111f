/**
 * Stand-ins for `vagrant` and `kubectl` on PATH, for `labgen up` tests where no VM can run:
 * each records its calls, and `vagrant` prints what Vagrant 2.3's --machine-readable mode prints
 * for the same command (the shapes of test/up/fixtures/vagrant/ and of Vagrant's source:
 * lib/vagrant/ui.rb, action/builtin/provision.rb, provisioners/shell/provisioner.rb), keeping
 * each VM's state in a file. The tests that use them say so in their names ("(stand-in: vagrant,
 * kubectl)"). Everything lives in one temp folder, removed by `cleanup`.
 *
 * The bed's folder (`dir`):
 *   log              one line per call: `vagrant ARGS` / `kubectl ARGS KUBECONFIG=… mode=…`
 *   state/VM         the VM's state id (none: not_created)
 *   fail             lines `VM PROVISIONER`: that provisioner's script fails on that VM
 *   admin.conf       what `vagrant ssh CP -c 'sudo cat /etc/kubernetes/admin.conf'` prints
 *   plugins          what `vagrant plugin list --machine-readable` prints
 *   not-ready        how many `kubectl get nodes` answers list the workers NotReady
 *   kubectl-fail     a part of kubectl's arguments: a call that has it fails
 *   ssh-fail         present: `vagrant ssh -c` prints what it would and exits 1, nothing on stderr
 *   hostkey/VM       the public half of the SSH host key VM's common provisioner last installed:
 *                    what `ssh-keygen -y` reads from the private key in the VM's synced share
 *                    (.labgen/secrets/vms/VM/, its /vagrant/.labgen), where common.sh's
 *                    labgen-host-key takes it from
 *   joined/VM        the join file a worker's provisioner joined with (it must be in its share,
 *                    the one the control plane's provisioner wrote into its own)
 *   share/VM         what each provisioner of VM found in its share: one `PROVISIONER FILE...`
 *                    line per run (the files under it, sorted)
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { REPO_ROOT } from '../support/generated.js';

const VAGRANT = String.raw`#!/bin/bash
# labgen test stand-in for vagrant (no VM can run here): prints Vagrant's --machine-readable lines
# for up, provision, reload, destroy, status, ssh -c (a script on stdin too) and plugin list; VM states in $bed/state; records argv;
# the common provisioner keeps the host key it was given in $bed/hostkey.
set -u
bed=${'$'}{LABGEN_STANDIN_BED:?}
echo "vagrant $*" >>"$bed/log"
mr() { # TARGET TYPE DATA...: one machine-readable line, each field escaped as ui.rb does
  local target=$1 type=$2 out f; shift 2
  out="$(date +%s),$target,$type"
  for f in "$@"; do f=${'$'}{f//,/%!(VAGRANT_COMMA)}; f=${'$'}{f//$'\n'/\\n}; out+=",$f"; done
  printf '%s\n' "$out"
}
# the machines, as the lab folder's Vagrantfile defines them: "NAME ROLE" lines
machines() { sed -n "s/^  { name: '\([^']*\)'.*role: '\([^']*\)' },$/\1 \2/p" Vagrantfile; }
role_of() { machines | awk -v n="$1" '$1 == n { print $2 }'; }
state_of() { cat "$bed/state/$1" 2>/dev/null || echo not_created; }
fail_exit() { # MESSAGE: Vagrant's ending for an error
  mr "" ui error "$1"; mr "" error-exit Vagrant::Errors::VagrantError "$1"; exit 1
}
provisioner() { # VM NAME: run one shell provisioner
  local vm=$1 p=$2
  mr "$vm" ui info "==> $vm: Running provisioner: $p (shell)..."
  mr "$vm" ui detail "    $vm: Running: /tmp/vagrant-shell20260101-4242-1x2y3z.sh"
  if grep -qx "$vm $p" "$bed/fail" 2>/dev/null; then
    mr "$vm" ui detail "    $vm: $p ($vm): kubeadm join --config /vagrant/provision/kubeadm/$vm.yaml"
    mr "$vm" ui detail "    $vm: error execution phase preflight: couldn't validate the identity of the API Server"
    mr "$vm" ui detail "    $vm: To see the stack trace of this error execute with --v=5 or higher"
    fail_exit "The SSH command responded with a non-zero exit status. Vagrant
assumes that this means the command failed. The output for this command
should be in the log above. Please read the output to determine what
went wrong."
  fi
  local share=".labgen/secrets/vms/$vm" # what the VM sees as /vagrant/.labgen
  mkdir -p "$bed/share" && echo "$p $(cd "$share" 2>/dev/null && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')" >>"$bed/share/$vm"
  if [ "$p" = common ]; then # the host key common.sh installs (labgen-host-key), as sshd would then offer it
    mkdir -p "$bed/hostkey" && ssh-keygen -y -f "$share/secrets/hostkeys/$vm/ssh_host_ed25519_key" >"$bed/hostkey/$vm" ||
      fail_exit "labgen-host-key: no host key for $vm in the synced folder (stand-in)"
  fi
  if [ "$p" = control-plane ]; then # what control-plane.sh writes into its share: the join file, the admin kubeconfig
    [ -s "$share/secrets/kubeadm-token" ] || fail_exit "control-plane.sh: no bootstrap token in the synced folder (stand-in)"
    printf 'join file of %s, token %s\n' "$vm" "$(cat "$share/secrets/kubeadm-token")" >"$share/secrets/join.kubeconfig"
    cp "$bed/admin.conf" "$share/secrets/admin.kubeconfig"
    chmod 0600 "$share/secrets/join.kubeconfig" "$share/secrets/admin.kubeconfig"
  fi
  if [ "$p" = worker ] && [ ! -e "$bed/joined/$vm" ]; then # worker.sh joins with the join file in its share
    [ -s "$share/secrets/join.kubeconfig" ] || fail_exit "worker.sh: no join file in the synced folder (stand-in)"
    mkdir -p "$bed/joined" && cp "$share/secrets/join.kubeconfig" "$bed/joined/$vm"
  fi
  mr "$vm" ui detail "    $vm: $p ($vm): changed: stand-in"
}
provisioners() { # VM [ONLY]: common then the VM's role, or only those named (comma-separated)
  local vm=$1 only=${'$'}{2:-} p
  for p in common "$(role_of "$vm")"; do
    if [ -z "$only" ] || [[ ",$only," == *",$p,"* ]]; then provisioner "$vm" "$p"; fi
  done
}
cmd=$1; shift
vm=""; provider=libvirt; provision=""; with=""; command=""
while [ $# -gt 0 ]; do
  case "$1" in
    --provider) provider=$2; shift ;;
    --provision) provision=all ;;
    --provision-with) with=$2; provision=some ;;
    --machine-readable|--no-tty) ;;
    -c) command=$2; shift ;;
    -*) ;;
    *) [ -z "$vm" ] && vm=$1 ;;
  esac
  shift
done
case "$cmd" in
  plugin) cat "$bed/plugins" ;;
  status)
    while read -r name _; do
      s=$(state_of "$name")
      mr "$name" metadata provider "$provider"
      mr "$name" provider-name "$provider"
      mr "$name" state "$s"
    done < <(machines) ;;
  up)
    [ -n "$(role_of "$vm")" ] || fail_exit "The machine with the name '$vm' was not found configured for this Vagrant environment."
    s=$(state_of "$vm")
    mr "$vm" metadata provider "$provider"
    mr "" ui info "Bringing machine '$vm' up with '$provider' provider..."
    mr "$vm" action up start
    if [ "$s" = not_created ]; then mr "$vm" ui info "==> $vm: Creating image (snapshot of base box volume)."; fi
    [ "$s" = running ] || mr "$vm" ui info "==> $vm: Starting domain."
    echo running >"$bed/state/$vm"
    if [ "$s" = not_created ] || [ "$provision" = all ]; then provisioners "$vm"
    elif [ "$provision" = some ]; then provisioners "$vm" "$with"
    else mr "$vm" ui info "==> $vm: Machine already provisioned. Run \`vagrant provision\` or use the \`--provision\`
==> $vm: flag to force provisioning. Provisioners marked to run always will still run."; fi
    mr "$vm" action up end ;;
  provision|reload)
    [ "$(state_of "$vm")" = running ] || fail_exit "VM is not currently running. Please, first bring it up with \`vagrant up\` then run this command."
    mr "$vm" metadata provider "$provider"
    mr "$vm" action "$cmd" start
    [ "$cmd" = reload ] && mr "$vm" ui info "==> $vm: Halting domain..." && mr "$vm" ui info "==> $vm: Starting domain."
    provisioners "$vm" "$with"
    mr "$vm" action "$cmd" end ;;
  ssh)
    [ "$(state_of "$vm")" = running ] || { echo "VM must be running to open SSH connection." >&2; exit 1; }
    if [ "$command" = 'sudo cat /etc/kubernetes/admin.conf' ]; then cat "$bed/admin.conf"; fi
    if [ "$command" = 'sudo cat /vagrant/.labgen/secrets/join.kubeconfig' ]; then cat ".labgen/secrets/vms/$vm/secrets/join.kubeconfig"; fi
    if [ -e "$bed/ssh-fail" ]; then exit 1; fi
    # a script fed on stdin (the day-2 commands' reset.sh): kept, and what reset.sh says when it reset a node
    if [[ $command == *"bash -s -- "* ]]; then
      cat >"$bed/stdin-$vm"
      echo "reset ($vm): changed: kubeadm reset (stand-in)"
    fi ;;
  destroy)
    mr "$vm" metadata provider "$provider"
    mr "$vm" action destroy start
    mr "$vm" ui info "==> $vm: Removing domain..."
    rm -f "$bed/state/$vm"
    mr "$vm" action destroy end ;;
  *) fail_exit "stand-in: $cmd is not simulated" ;;
esac
`;

const KUBECTL = String.raw`#!/bin/bash
# labgen test stand-in for kubectl (no cluster here): records argv, the kubeconfig it was given and
# that file's mode; answers get nodes (workers NotReady for the first $bed/not-ready answers) and
# the lab CA secret k8s/apply.sh reads; anything else succeeds silently.
set -u
bed=${'$'}{LABGEN_STANDIN_BED:?}
kc=${'$'}{KUBECONFIG:-}
for a in "$@"; do case "$a" in --kubeconfig=*) kc=${'$'}{a#--kubeconfig=} ;; esac; done
echo "kubectl $* KUBECONFIG=$kc mode=$(stat -c %a "$kc" 2>/dev/null || echo none)" >>"$bed/log"
if [ -s "$bed/kubectl-fail" ] && [[ " $* " == *"$(cat "$bed/kubectl-fail")"* ]]; then
  echo 'error: error validating "k8s": the server could not find the requested resource (stand-in)' >&2; exit 1
fi
case " $* " in
  *" get nodes "*)
    n=$(cat "$bed/nodes-asked" 2>/dev/null || echo 0); echo $((n + 1)) >"$bed/nodes-asked"
    notready=$(cat "$bed/not-ready" 2>/dev/null || echo 0)
    items=""
    while read -r name role; do
      ready=True; [ "$role" = worker ] && [ "$n" -lt "$notready" ] && ready=False
      items+="${'$'}{items:+,}{\"metadata\":{\"name\":\"$name\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"$ready\"}]}}"
    done < <(sed -n "s/^  { name: '\([^']*\)'.*role: '\([^']*\)' },$/\1 \2/p" Vagrantfile)
    echo "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[$items]}" ;;
  # the Gateway API bundle installed, when the test put one there
  *" get crd gateways.gateway.networking.k8s.io "*) cat "$bed/gateway-api" 2>/dev/null ;;
  *" get secret lab-ca "*) printf '%s' '-----BEGIN CERTIFICATE-----
c3RhbmQtaW4gbGFiIENB
-----END CERTIFICATE-----
' | base64 -w0 ;;
esac
exit 0
`;

export interface StandInBed {
  /** the bed's folder (its files: see above) */
  dir: string;
  /** PATH with the stand-ins first */
  env: Record<string, string>;
  /** the calls so far, one per line (`vagrant …`, `kubectl …`) */
  calls(): string[];
  vagrantCalls(): string[];
  kubectlCalls(): string[];
  /** forget the calls so far */
  clearCalls(): void;
  setState(vm: string, state: string): void;
  state(vm: string): string;
  /** `VM PROVISIONER` lines whose script fails; [] for none */
  failing(lines: string[]): void;
  /** kubectl calls with this in their arguments fail; '' for none */
  kubectlFailing(part: string): void;
  /** whether `vagrant ssh -c` fails after printing its output (nothing on stderr) */
  sshFailing(on: boolean): void;
  /** the public key VM's common provisioner last installed (`ssh-keygen -y` of the key it was given), or undefined */
  installedHostKey(vm: string): string | undefined;
  /** what VM's provisioners found in its share, one `PROVISIONER FILE...` line per run */
  shareSeen(vm: string): string[];
  /** the join file worker VM joined with, or undefined */
  joinedWith(vm: string): string | undefined;
  cleanup(): void;
}

/** The admin kubeconfig kubeadm writes (admin.conf), with stand-in credentials: cluster named clusterName, user kubernetes-admin. */
export function adminConf(clusterName: string, server: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64('stand-in cluster CA')}
    server: ${server}
  name: ${clusterName}
contexts:
- context:
    cluster: ${clusterName}
    user: kubernetes-admin
  name: kubernetes-admin@${clusterName}
current-context: kubernetes-admin@${clusterName}
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${b64('stand-in admin certificate')}
    client-key-data: ${b64('stand-in admin key')}
`;
}

/**
 * The stand-ins and their folder; `plugins`: what `vagrant plugin list` prints (default: the real
 * capture with vagrant-libvirt); `only`: the stand-ins on PATH (default both; the VM test bed runs
 * the real vagrant and only kubectl stands in, for the cluster the laptop cannot reach).
 */
export function standInBed(o: { admin: string; plugins?: string; notReady?: number; home?: string; only?: ('vagrant' | 'kubectl')[] }): StandInBed {
  const dir = mkdtempSync(join(tmpdir(), 'labgen-up-standin-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'state'));
  const only = o.only ?? ['vagrant', 'kubectl'];
  for (const [name, text] of ([['vagrant', VAGRANT], ['kubectl', KUBECTL]] as const).filter(([n]) => only.includes(n))) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(dir, 'admin.conf'), o.admin);
  writeFileSync(join(dir, 'plugins'), o.plugins ?? readFileSync(join(REPO_ROOT, 'test', 'up', 'fixtures', 'vagrant', 'plugin-list-libvirt.txt'), 'utf8'));
  writeFileSync(join(dir, 'not-ready'), String(o.notReady ?? 0));
  writeFileSync(join(dir, 'log'), '');
  const home = o.home ?? join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const calls = () => readFileSync(join(dir, 'log'), 'utf8').split('\n').filter(Boolean);
  return {
    dir,
    env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, LABGEN_STANDIN_BED: dir, HOME: home, KUBECONFIG: '' },
    calls,
    vagrantCalls: () => calls().filter((c) => c.startsWith('vagrant ')),
    kubectlCalls: () => calls().filter((c) => c.startsWith('kubectl ')),
    clearCalls: () => writeFileSync(join(dir, 'log'), ''),
    setState: (vm, state) => writeFileSync(join(dir, 'state', vm), `${state}\n`),
    state: (vm) => (existsSync(join(dir, 'state', vm)) ? readFileSync(join(dir, 'state', vm), 'utf8').trim() : 'not_created'),
    failing: (lines) => writeFileSync(join(dir, 'fail'), lines.map((l) => `${l}\n`).join('')),
    kubectlFailing: (part) => writeFileSync(join(dir, 'kubectl-fail'), part),
    sshFailing: (on) => (on ? writeFileSync(join(dir, 'ssh-fail'), '') : rmSync(join(dir, 'ssh-fail'), { force: true })),
    installedHostKey: (vm) => (existsSync(join(dir, 'hostkey', vm)) ? readFileSync(join(dir, 'hostkey', vm), 'utf8').trim() : undefined),
    shareSeen: (vm) => (existsSync(join(dir, 'share', vm)) ? readFileSync(join(dir, 'share', vm), 'utf8').split('\n').filter(Boolean).map((l) => l.trim()) : []),
    joinedWith: (vm) => (existsSync(join(dir, 'joined', vm)) ? readFileSync(join(dir, 'joined', vm), 'utf8') : undefined),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
