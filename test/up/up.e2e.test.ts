/**
 * `labgen up` end to end on a generated lab folder (the seed lab with one worker, libvirt),
 * against stand-ins for vagrant and kubectl on PATH (no VM and no cluster can run here:
 * test/up/standins.ts). Everything else is real: the lab folder, k8s/apply.sh (run as it is),
 * .labgen/up-state.json between runs, the admin kubeconfig read back by the real kubectl.
 * The tests run in order on one lab folder: each starts from where the last one left it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KNOWN_HOSTS, SECRETS_DIR, UP_STATE } from '../../generator/common/layout.js';
import { hostKeySecret } from '../../generator/secrets/paths.js';
import { SSH_SILENT } from '../../drivers/up/vagrant.js';
import { EXIT } from '../../generator/errors.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { adminConf, type StandInBed, standInBed } from './standins.js';
import { generatedLabDir, regenerate, runUp, shownRun, writeLab } from './support.js';

const CP = 'kv-master-0';
const W = 'kv-worker-0';
const SERVER = 'https://api.home.lab:6443';
const ADMIN = '.labgen/secrets/admin.kubeconfig';
const FAST = { pollMs: 20, readyTimeoutMs: 120_000 };

/** The real kubectl (the stand-in is only on the PATH the runs get). */
const realKubectl = (args: string[]) => spawnSync('kubectl', args, { encoding: 'utf8' });

/** `TYPE BASE64` of a public key line (no comment). */
const keyOf = (line: string | undefined) => line?.trim().split(/\s+/).slice(0, 2).join(' ');

describeE2e('labgen up (stand-in: vagrant, kubectl)', { commands: ['bash', 'kubectl', 'base64', 'stat', 'ssh-keygen'] }, () => {
  let lab: { dir: string; labFile: string };
  let bed: StandInBed;
  const up = (extra: { mergeKubeconfig?: boolean } = {}) => runUp({ lab: lab.labFile, env: bed.env, timing: FAST, ...extra });
  const mode = (rel: string) => statSync(join(lab.dir, rel)).mode & 0o777;
  /** The key .labgen/known_hosts pins for `name`, as the real ssh-keygen finds it (the file laptop/ssh_config checks the VMs against). */
  const pinned = (name: string) => {
    const r = spawnSync('ssh-keygen', ['-F', name, '-f', join(lab.dir, KNOWN_HOSTS)], { encoding: 'utf8' });
    const lines = r.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines, `${name} in ${KNOWN_HOSTS}: ${r.stdout}${r.stderr}`).toHaveLength(1);
    return keyOf(lines[0]!.split(/\s+/).slice(1).join(' '));
  };
  const hostKeyPub = (vm: string) => readFileSync(join(lab.dir, SECRETS_DIR, `${hostKeySecret(vm)}.pub`), 'utf8');

  beforeAll(async () => {
    lab = await generatedLabDir('rpi-slurm', { cluster: { provider: 'libvirt', workers: { count: 1 } } });
    bed = standInBed({ admin: adminConf('homelab', SERVER), notReady: 2 });
  }, 60_000);
  afterAll(() => {
    bed?.cleanup();
    if (lab) removeDir(lab.dir);
  });

  it('first up: each VM brought up with its progress, the admin kubeconfig 0600, the nodes waited for, k8s/apply.sh, the lab CA into each VM, the endpoints', async () => {
    const r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(bed.vagrantCalls()).toEqual([
      'vagrant plugin list --machine-readable', // the provider's plugin is there (prerequisites)
      'vagrant status --machine-readable',
      `vagrant up ${CP} --provider libvirt --machine-readable`,
      // the join file the control plane wrote, for the worker that joins
      `vagrant ssh ${CP} --no-tty -c sudo cat /vagrant/.labgen/secrets/join.kubeconfig`,
      `vagrant up ${W} --provider libvirt --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
      // k8s/apply.sh saved the lab CA: containerd on each VM must trust it (common.sh installs it)
      `vagrant provision ${CP} --provision-with common --machine-readable`,
      `vagrant provision ${W} --provision-with common --machine-readable`,
    ]);
    // per-VM progress, read from the machine-readable lines
    for (const line of [
      `${CP}: provisioner common`,
      `${CP}: provisioner control-plane`,
      `${W}: Creating image (snapshot of base box volume).`,
      `${W}: provisioner worker`,
      'cluster: nodes Ready 1/2; waiting for kv-worker-0',
    ])
      expect(r.out).toContain(line);
    // the kubeconfig: what the control plane has, 0600, read by the real kubectl
    expect(mode(ADMIN)).toBe(0o600);
    expect(readFileSync(join(lab.dir, ADMIN), 'utf8')).toBe(adminConf('homelab', SERVER));
    const view = realKubectl(['config', 'view', '--kubeconfig', join(lab.dir, ADMIN), '-o', 'jsonpath={.clusters[0].cluster.server}']);
    expect(view.stdout, view.stderr).toBe(SERVER);
    // the cluster: nodes asked with the lab's kubeconfig, then k8s/apply.sh (real) with KUBECONFIG set to it
    const kubectl = bed.kubectlCalls();
    const kc = `KUBECONFIG=${join(lab.dir, ADMIN)} mode=600`;
    expect(kubectl.filter((c) => c.includes('get nodes -o json'))).toHaveLength(3);
    expect(kubectl).toContain(`kubectl apply --server-side --force-conflicts -k k8s ${kc}`);
    expect(kubectl.every((c) => c.endsWith(kc)), kubectl.join('\n')).toBe(true);
    expect(readFileSync(join(lab.dir, '.labgen/lab-ca.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
    // the endpoints, and where the credentials are: file names, never their contents
    const out = r.out.join('\n');
    expect(out).toContain(`Kubernetes API  ${SERVER}`);
    expect(out).toMatch(/grafana +https:\/\/grafana\.home\.lab +10\.0\.0\.31/);
    expect(out).toContain('password in .labgen/secrets/registry-password');
    for (const secret of ['registry-password', 'grafana-admin-password'])
      expect(out).not.toContain(readFileSync(join(lab.dir, '.labgen/secrets', secret), 'utf8').trim());
    expect(existsSync(join(lab.dir, UP_STATE))).toBe(true);
    // each VM's common provisioner installed the host key known_hosts pins for it, under each of its names
    for (const vm of [CP, W]) for (const name of [vm, `${vm}.home.lab`]) expect(keyOf(bed.installedHostKey(vm)), `${vm} as ${name}`).toBe(pinned(name));
    // what each VM's provisioners found in its synced share (its /vagrant/.labgen): its own key, the control
    // plane the token, the worker the join file the control plane wrote; the lab CA once apply.sh saved it
    const key = (vm: string) => [`secrets/${hostKeySecret(vm)}`, `secrets/${hostKeySecret(vm)}.pub`];
    const seen = (p: string, ...files: string[]) => [p, ...files.sort()].join(' ');
    expect(bed.shareSeen(CP)).toEqual([
      seen('common', ...key(CP), 'secrets/kubeadm-token'),
      seen('control-plane', ...key(CP), 'secrets/kubeadm-token'),
      seen('common', ...key(CP), 'secrets/kubeadm-token', 'secrets/join.kubeconfig', 'secrets/admin.kubeconfig', 'lab-ca.crt'),
    ]);
    expect(bed.shareSeen(W)).toEqual([
      seen('common', ...key(W), 'secrets/join.kubeconfig'),
      seen('worker', ...key(W), 'secrets/join.kubeconfig'),
      seen('common', ...key(W), 'secrets/join.kubeconfig', 'lab-ca.crt'),
    ]);
    const token = readFileSync(join(lab.dir, SECRETS_DIR, 'kubeadm-token'), 'utf8').trim();
    expect(bed.joinedWith(W)).toBe(`join file of ${CP}, token ${token}\n`);
    // the shares: 0700, their secrets 0600 (copies of .labgen/secrets/, the lab CA 0644)
    for (const vm of [CP, W]) {
      const share = `${SECRETS_DIR}/vms/${vm}`;
      expect(mode(share), share).toBe(0o700);
      expect(mode(`${share}/secrets/hostkeys/${vm}`), share).toBe(0o700);
      for (const f of [...key(vm), 'secrets/join.kubeconfig']) expect(mode(`${share}/${f}`), `${share}/${f}`).toBe(0o600);
      expect(readFileSync(join(lab.dir, share, 'secrets', hostKeySecret(vm)))).toEqual(readFileSync(join(lab.dir, SECRETS_DIR, hostKeySecret(vm))));
      expect(mode(`${share}/lab-ca.crt`)).toBe(0o644);
    }
    // the guide says what up just did: the lab registry is on, so the VMs were provisioned again for the lab CA
    expect(readFileSync(join(lab.dir, 'README.md'), 'utf8')).toMatch(/provisions the VMs again once the lab CA exists \(so containerd\s+trusts the lab registry\)/);
  });

  it('a second up does nothing: the prerequisites and vagrant status only, no kubectl, no apply', async () => {
    bed.clearCalls();
    const r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(bed.calls()).toEqual(['vagrant plugin list --machine-readable', 'vagrant status --machine-readable']);
    expect(r.out).toContain('up to date: every VM runs as provisioned and k8s/ as applied; nothing to do');
  });

  it('after labgen generate --new-secrets made a VM a new host key: only its common provisioner runs (it installs the key), the key known_hosts now pins; the next up does nothing', async () => {
    const before = { cp: bed.installedHostKey(CP), w: hostKeyPub(W) };
    rmSync(join(lab.dir, SECRETS_DIR, 'hostkeys', W), { recursive: true });
    const g = await regenerate(lab.labFile, { newSecrets: true });
    expect(g.code, g.out).toBe(0);
    expect(hostKeyPub(W)).not.toBe(before.w);
    expect(pinned(W)).toBe(keyOf(hostKeyPub(W))); // re-pinned: ssh -F laptop/ssh_config now expects the new key
    expect(keyOf(bed.installedHostKey(W))).not.toBe(pinned(W));
    bed.clearCalls();
    let r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(bed.vagrantCalls().slice(1)).toEqual([
      'vagrant status --machine-readable',
      `vagrant provision ${W} --provision-with common --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
    ]);
    expect(r.result!.vms.find((v) => v.vm === W)!.why).toEqual(['a new SSH host key']);
    for (const name of [W, `${W}.home.lab`]) expect(keyOf(bed.installedHostKey(W)), name).toBe(pinned(name));
    expect(bed.installedHostKey(CP)).toBe(before.cp);
    bed.clearCalls();
    r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(bed.calls()).toEqual(['vagrant plugin list --machine-readable', 'vagrant status --machine-readable']);
  });

  it('a `vagrant ssh` for the admin kubeconfig that fails after printing it: the failure named, what it printed (the client key) never shown', async () => {
    rmSync(join(lab.dir, ADMIN)); // the cluster step fetches it again
    bed.sshFailing(true);
    bed.clearCalls();
    let r: Awaited<ReturnType<typeof up>>;
    try {
      r = await up();
    } finally {
      bed.sshFailing(false);
    }
    const shown_ = shownRun(r);
    expect(r.code, shown_).toBe(EXIT.failure);
    expect(r.err).toEqual([
      'labgen: up failed on the cluster; the other VMs are as they were (labgen up again resumes)',
      `  cluster: failed at kubeconfig: \`vagrant ssh ${CP} -c 'sudo cat /etc/kubernetes/admin.conf'\` exited 1`,
      `      ${SSH_SILENT}`,
    ]);
    for (const secret of [Buffer.from('stand-in admin key').toString('base64'), 'client-key-data', 'client-certificate-data']) expect(shown_).not.toContain(secret);
    expect(existsSync(join(lab.dir, ADMIN))).toBe(false);
    bed.clearCalls();
    r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(mode(ADMIN)).toBe(0o600);
  });

  it('--merge-kubeconfig: the lab as one context of ~/.kube/config (a stale one of its name replaced, the others untouched, 0600), read by the real kubectl', async () => {
    const config = join(bed.env.HOME!, '.kube', 'config');
    mkdirSync(dirname(config), { recursive: true });
    const other = adminConf('work', 'https://k8s.example.test:6443').replace(/kubernetes-admin/g, 'alice');
    const stale = yaml.load(adminConf('homelab', 'https://10.9.9.9:6443')) as Record<string, { name: string }[]>;
    const doc = yaml.load(other) as Record<string, unknown[]>;
    for (const k of ['clusters', 'users', 'contexts'] as const) doc[k]!.push({ ...stale[k]![0]!, name: 'homelab' });
    writeFileSync(config, yaml.dump(doc), { mode: 0o644 });
    bed.clearCalls();
    const r = await up({ mergeKubeconfig: true });
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(bed.vagrantCalls()).toEqual(['vagrant plugin list --machine-readable', 'vagrant status --machine-readable']);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(r.out.join('\n')).toContain(`the context homelab in ${config}`);
    expect(r.out.join('\n')).toContain('was mode 644: now 600');
    const contexts = realKubectl(['config', 'get-contexts', '--kubeconfig', config, '-o', 'name']);
    expect(contexts.stdout.split('\n').filter(Boolean).sort(), contexts.stderr).toEqual(['alice@work', 'homelab']);
    const lab_ = JSON.parse(realKubectl(['config', 'view', '--kubeconfig', config, '--raw', '--minify', '--context', 'homelab', '-o', 'json']).stdout);
    expect(lab_.clusters[0].cluster.server).toBe(SERVER);
    expect(lab_.users[0].user['client-key-data']).toBe(Buffer.from('stand-in admin key').toString('base64'));
    const work = JSON.parse(realKubectl(['config', 'view', '--kubeconfig', config, '--raw', '--minify', '--context', 'alice@work', '-o', 'json']).stdout);
    expect(work.clusters[0].cluster.server).toBe('https://k8s.example.test:6443');
    expect(realKubectl(['config', 'current-context', '--kubeconfig', config]).stdout.trim()).toBe('alice@work');
  });

  it('--merge-kubeconfig with a ~/.kube/config that is not a kubeconfig: refused before anything runs (exit 2), the file as it was', async () => {
    const config = join(bed.env.HOME!, '.kube', 'config');
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, 'clusters: [unclosed');
    bed.clearCalls();
    const r = await up({ mergeKubeconfig: true });
    expect(r.code).toBe(EXIT.badInput);
    expect(r.error!.message).toMatch(new RegExp(`^${config}: not YAML: .*; nothing was started$`));
    expect(bed.calls()).toEqual([]);
    expect(readFileSync(config, 'utf8')).toBe('clusters: [unclosed');
    writeFileSync(config, good);
  });

  it('resume: a VM not running is brought up, nothing else; a halted one without provisioning, a new one after the bootstrap token step', async () => {
    bed.setState(W, 'shutoff');
    bed.clearCalls();
    let r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    // a halted VM with nothing new: booted, not provisioned again; the cluster: kubeconfig and nodes, no apply
    expect(bed.vagrantCalls().slice(1)).toEqual([
      'vagrant status --machine-readable',
      `vagrant up ${W} --provider libvirt --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
    ]);
    expect(bed.kubectlCalls().every((c) => c.includes(' get nodes -o json '))).toBe(true);
    expect(r.out).toContain(`${W}: Machine already provisioned. Run \`vagrant provision\` or use the \`--provision\``);

    bed.setState(W, 'not_created');
    bed.clearCalls();
    r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    // a new worker joins: the control plane's token step first (the token lives 24 h), the running control plane otherwise untouched
    expect(bed.vagrantCalls().slice(1)).toEqual([
      'vagrant status --machine-readable',
      `vagrant provision ${CP} --provision-with control-plane --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /vagrant/.labgen/secrets/join.kubeconfig`,
      `vagrant up ${W} --provider libvirt --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
    ]);
    expect(bed.kubectlCalls().some((c) => c.includes(' apply '))).toBe(false);
  });

  it('a failed provisioner: exit 1 naming the VM, the step and the tail of its output; the other VM left as it was; the next up resumes there', async () => {
    bed.setState(W, 'not_created');
    bed.failing([`${W} worker`]);
    bed.clearCalls();
    let r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.failure);
    expect(r.err).toEqual([
      `labgen: up failed on ${W}; the other VMs are as they were (labgen up again resumes)`,
      `  ${W}: failed at worker: \`vagrant up ${W} --provider libvirt\` exited 1`,
      `      worker (${W}): kubeadm join --config /vagrant/provision/kubeadm/${W}.yaml`,
      '      error execution phase preflight: couldn\'t validate the identity of the API Server',
      '      To see the stack trace of this error execute with --v=5 or higher',
    ]);
    // the control plane: only its token step; nothing reached the cluster
    expect(bed.vagrantCalls().slice(2)).toEqual([`vagrant provision ${CP} --provision-with control-plane --machine-readable`, `vagrant ssh ${CP} --no-tty -c sudo cat /vagrant/.labgen/secrets/join.kubeconfig`, `vagrant up ${W} --provider libvirt --machine-readable`]);
    expect(bed.kubectlCalls()).toEqual([]);
    expect(bed.state(CP)).toBe('running');
    expect(JSON.parse(readFileSync(join(lab.dir, UP_STATE), 'utf8')).vms[W].pending).toBe('provision');

    bed.failing([]);
    bed.clearCalls();
    r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    // the worker is there (running), half provisioned: provisioned, after the token step, and nothing else
    expect(bed.vagrantCalls().slice(1)).toEqual([
      'vagrant status --machine-readable',
      `vagrant provision ${CP} --provision-with control-plane --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /vagrant/.labgen/secrets/join.kubeconfig`,
      `vagrant provision ${W} --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
    ]);
    expect(JSON.parse(readFileSync(join(lab.dir, UP_STATE), 'utf8')).vms[W].pending).toBeUndefined();
  });

  it('a lab folder out of date with lab.yaml is refused before any VM is touched (exit 1), naming the files', async () => {
    const doc = yaml.load(readFileSync(lab.labFile, 'utf8')) as { services: { monitoring: { grafana: string } } };
    doc.services.monitoring.grafana = '10.0.0.35';
    writeLab(lab.labFile, doc);
    bed.clearCalls();
    const r = await up();
    expect(r.code).toBe(EXIT.failure);
    expect(r.error!.message).toMatch(/^the lab folder is out of date with lab\.yaml; nothing was started:\n/);
    expect(r.error!.message).toContain('  provision/files/etc/hosts.lab (update)');
    expect(r.error!.message).toMatch(/ {2}k8s\/\S+ \(update\)/);
    expect(r.error!.hint).toContain('labgen generate');
    expect(bed.vagrantCalls()).toEqual(['vagrant plugin list --machine-readable']); // the prerequisites only: no status, no VM
  });

  it('after labgen generate changed the VMs and k8s/: exactly what its impact says (vagrant provision each VM, k8s/apply.sh), nothing more', async () => {
    const g = await regenerate(lab.labFile);
    expect(g.code).toBe(0);
    expect(g.out).toMatch(/VMs +labgen up \(vagrant provision\)\n/);
    expect(g.out).toContain('k8s/apply.sh');
    bed.clearCalls();
    const r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(r.result!.plan.actions).toEqual([{ do: 'vm-provision', vms: [], reload: false }, { do: 'k8s-apply' }]);
    expect(bed.vagrantCalls().slice(1)).toEqual([
      'vagrant status --machine-readable',
      `vagrant provision ${CP} --machine-readable`,
      `vagrant provision ${W} --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
    ]);
    expect(bed.kubectlCalls().filter((c) => c.includes(' -k k8s '))).toHaveLength(1);
    expect(r.out.join('\n')).toMatch(/grafana +https:\/\/grafana\.home\.lab +10\.0\.0\.35/);
  });

  it('k8s/apply.sh failing: exit 1 naming its step and the tail; the VMs done stay done; the next up applies k8s/ again', async () => {
    const doc = yaml.load(readFileSync(lab.labFile, 'utf8')) as { services: { monitoring: { grafana: string } } };
    doc.services.monitoring.grafana = '10.0.0.31';
    writeLab(lab.labFile, doc);
    expect((await regenerate(lab.labFile)).code).toBe(0);
    bed.kubectlFailing(' -k k8s ');
    bed.clearCalls();
    let r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.failure);
    expect(r.err).toEqual([
      'labgen: up failed on the cluster; the other VMs are as they were (labgen up again resumes)',
      '  cluster: failed at k8s/apply.sh (k8s/): `k8s/apply.sh` exited 1',
      '      error: error validating "k8s": the server could not find the requested resource (stand-in)',
    ]);
    bed.kubectlFailing('');
    bed.clearCalls();
    r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(bed.vagrantCalls().slice(1)).toEqual(['vagrant status --machine-readable', `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`]);
    expect(bed.kubectlCalls().filter((c) => c.includes(' -k k8s '))).toHaveLength(1);
  });

  it('a worker removed from lab.yaml: its node drained and deleted, the rest as the impact says: the control plane provisioned (its /etc/hosts), not restarted (its own lines of the Vagrantfile are as it booted with them)', async () => {
    const doc = yaml.load(readFileSync(lab.labFile, 'utf8')) as { cluster: { workers: { count: number } } };
    doc.cluster.workers.count = 0;
    writeLab(lab.labFile, doc);
    expect((await regenerate(lab.labFile)).code).toBe(0);
    bed.clearCalls();
    const r = await up();
    expect(r.code, shownRun(r)).toBe(EXIT.ok);
    expect(r.result!.plan.deletes).toEqual([W]);
    expect(bed.vagrantCalls().slice(1)).toEqual([
      'vagrant status --machine-readable',
      `vagrant provision ${CP} --machine-readable`,
      `vagrant ssh ${CP} --no-tty -c sudo cat /etc/kubernetes/admin.conf`,
    ]);
    const kubectl = bed.kubectlCalls();
    expect(kubectl.some((c) => c.startsWith(`kubectl --kubeconfig=${join(lab.dir, ADMIN)} drain ${W} `))).toBe(true);
    expect(kubectl.some((c) => c.startsWith(`kubectl --kubeconfig=${join(lab.dir, ADMIN)} delete node ${W} --ignore-not-found`))).toBe(true);
    expect(r.out.join('\n')).toContain(`note: ${W} left the lab: its node is deleted from the cluster; its VM is not`);
    // done once: the next up has nothing to delete
    bed.clearCalls();
    expect((await up()).code).toBe(EXIT.ok);
    expect(bed.calls()).toEqual(['vagrant plugin list --machine-readable', 'vagrant status --machine-readable']);
  });
});
