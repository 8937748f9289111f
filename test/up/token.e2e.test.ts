/**
 * The bootstrap token's lifetime (24 h, never for ever), in the generated provision scripts
 * themselves, run on a test host (a network namespace with its own root: test/support/test-hosts.ts)
 * as a VM runs them, /vagrant and all:
 *   - worker.sh asks the API with the join file first: the real kubectl, against a test API
 *     server on the host's bridge that refuses it as kube-apiserver refuses an expired token
 *     (401 Unauthorized), makes it stop with a clear message and no `kubeadm join`; an API that
 *     answers lets it join;
 *   - control-plane.sh makes the token again (same value, --ttl 24h) when it is gone, expired,
 *     has less than an hour left or never expires, and leaves a valid one alone. kubeadm and the
 *     cluster cannot run here: a kubeadm stand-in and a kubectl stand-in (its `config` subcommands
 *     the real kubectl) answer for them, recording each call.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { planLab } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { startHosts, type TestHost, type TestHostGroup } from '../support/test-hosts.js';

const { lab, files } = planLab('labs/rpi-slurm/lab.yaml', { cluster: { workers: { count: 1 } } });
const W = 'kv-worker-0';
const fileOf = (path: string) => files.find((f) => f.path === path)!.contents;
const TOKEN = 'abcdef.0123456789abcdef';

const KUBEADM = `#!/bin/bash
# labgen test stand-in for kubeadm (no cluster here): records every call; token create keeps the
# token's expiration where the kubectl stand-in reads it (what kubeadm's Secret would hold)
echo "kubeadm $*" >> /var/log/standin.log
if [ "$1 $2" = "token create" ]; then
  mkdir -p /var/lib/standin && date -u -d "+24 hours" +%Y-%m-%dT%H:%M:%SZ > /var/lib/standin/expiration
fi
if [ "$1" = join ]; then mkdir -p /etc/kubernetes && : > /etc/kubernetes/kubelet.conf; fi
`;

const KUBECTL = `#!/bin/bash
# labgen test stand-in for kubectl on a control plane (no cluster here): \`config\` is the real
# kubectl (it writes the join file); the bootstrap token's Secret is /var/lib/standin/expiration
# (missing: no such Secret); the CNI is there; every call is recorded
echo "kubectl $*" >> /var/log/standin.log
case "$1" in config|--kubeconfig=*) exec /usr/bin/kubectl "$@" ;; esac
case " $* " in
  *" get secret bootstrap-token-"*)
    [ -e /var/lib/standin/expiration ] || { echo 'Error from server (NotFound): secrets not found' >&2; exit 1; }
    printf '%s' "$(cat /var/lib/standin/expiration)" | base64 -w0 ;;
esac
`;

describeE2e('the bootstrap token lives 24 h: worker.sh and control-plane.sh on a test host', { root: true, commands: ['ip', 'unshare', 'sshd', 'kubectl'] }, () => {
  let group: TestHostGroup;
  let host: TestHost;
  let api: Server;
  let apiAnswers: 'unauthorized' | 'ok' = 'unauthorized';

  beforeAll(async () => {
    const passwd = `${readFileSync('/etc/passwd', 'utf8')}vagrant:x:4242:4242::/home/vagrant:/bin/bash\n`;
    const groupFile = `${readFileSync('/etc/group', 'utf8')}vagrant:x:4242:\n`;
    group = await startHosts(1, {
      names: [W],
      files: {
        '/etc/passwd': passwd,
        '/etc/group': groupFile,
        '/usr/local/bin/kubeadm': { content: KUBEADM, mode: 0o755 },
        '/vagrant/provision/worker.sh': { content: fileOf('provision/worker.sh'), mode: 0o755 },
        '/vagrant/provision/control-plane.sh': { content: fileOf('provision/control-plane.sh'), mode: 0o755 },
        [`/vagrant/provision/kubeadm/${W}.yaml`]: fileOf(`provision/kubeadm/${W}.yaml`),
        '/vagrant/.labgen/secrets/kubeadm-token': `${TOKEN}\n`,
      },
    });
    host = group.hosts[0]!;
    // the API as the worker sees it: kube-apiserver refuses an expired or unknown bootstrap token with 401, whatever the request
    api = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (apiAnswers === 'unauthorized') {
        res.statusCode = 401;
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
      } else res.end(JSON.stringify({ major: '1', minor: '37', gitVersion: 'v1.37.0' }));
    });
    await new Promise<void>((r) => api.listen(0, group.bridgeIp, r));
    const port = (api.address() as AddressInfo).port;
    await host.writeFile(
      '/vagrant/.labgen/secrets/join.kubeconfig',
      `apiVersion: v1\nkind: Config\nclusters: [{name: lab, cluster: {server: "http://${group.bridgeIp}:${port}"}}]\n` +
        `users: [{name: bootstrap, user: {token: "${TOKEN}"}}]\ncontexts: [{name: bootstrap, context: {cluster: lab, user: bootstrap}}]\ncurrent-context: bootstrap\n`,
    );
  }, 60_000);

  afterAll(async () => {
    await new Promise((r) => (api ? api.close(r) : r(undefined)));
    await group?.stopAll();
  });

  const log = async () => (await host.exec('cat /var/log/standin.log 2>/dev/null; : > /var/log/standin.log')).stdout.split('\n').filter(Boolean);

  it('worker.sh: an expired token (the API answers 401 to the real kubectl) stops it before kubeadm join, saying what to do; a valid one joins', async () => {
    let r = await host.exec(`bash /vagrant/provision/worker.sh ${W}`);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`worker (${W}): the bootstrap token in /vagrant/.labgen/secrets/join.kubeconfig is expired or unknown (it lives 24 h)`);
    expect(r.stderr).toContain(`vagrant provision ${lab.cluster.controlPlane.name} --provision-with control-plane`);
    expect(await log()).toEqual([]); // no kubeadm join
    apiAnswers = 'ok';
    r = await host.exec(`bash /vagrant/provision/worker.sh ${W}`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`worker (${W}): changed: kubeadm join`);
    expect(await log()).toEqual([`kubeadm join --config /vagrant/provision/kubeadm/${W}.yaml`]);
  });

  it('control-plane.sh: the token made (24 h) when missing, expired, nearly expired or never expiring; a valid one left alone', async () => {
    await host.exec('mkdir -p /etc/kubernetes/pki /var/lib/standin && echo "stand-in CA" > /etc/kubernetes/pki/ca.crt && echo "stand-in admin" > /etc/kubernetes/admin.conf');
    await host.writeFile('/usr/local/bin/kubectl', { content: KUBECTL, mode: 0o755 });
    const cp = () => host.exec(`bash /vagrant/provision/control-plane.sh ${lab.cluster.controlPlane.name}`);
    const made = [`kubeadm token delete abcdef`, `kubeadm token create ${TOKEN} --ttl 24h --description labgen: workers join with it`];
    const tokenCalls = (calls: string[]) => calls.filter((c) => c.startsWith('kubeadm token'));

    let r = await cp(); // no Secret: made
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('bootstrap token (24h)');
    expect(tokenCalls(await log())).toEqual(made);
    expect(await host.readFile('/vagrant/.labgen/secrets/join.kubeconfig')).toContain(TOKEN);

    r = await cp(); // valid for 24 h: nothing to change
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing to change');
    expect(tokenCalls(await log())).toEqual([]);

    for (const [what, expiration] of [
      ['expired (not cleaned up yet)', 'date -u -d "-2 hours" +%Y-%m-%dT%H:%M:%SZ'],
      ['less than an hour left', 'date -u -d "+30 minutes" +%Y-%m-%dT%H:%M:%SZ'],
      ['never expiring (--ttl 0: no expiration)', 'true'],
    ]) {
      await host.exec(`${expiration} > /var/lib/standin/expiration`);
      r = await cp();
      expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(tokenCalls(await log()), what).toEqual(made);
    }
  });
});
