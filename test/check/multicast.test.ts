/**
 * `labgen check multicast` (issue #14):
 * - k8s/checks/multicast/ built by the real `kubectl kustomize`, each object validated by
 *   kubernetes-models (the same as every k8s/ object, test/k8s/manifests.test.ts);
 * - the Jobs' own scripts, taken from the built Jobs, run by the real python3 in a network
 *   namespace of their own (`unshare --net`: loopback only, with a multicast route): the receiver
 *   passes with the sender running and fails without it;
 * - the check itself in-process against a kubectl stand-in (no cluster can run here), which
 *   records its calls and answers the Job's status, the pods' nodes and the receiver's log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1';
import { Namespace } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../generator/cli/check.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { MULTICAST } from '../../generator/plan/k8s/multicast-check.js';
import { builtLabCache, type K8sObject } from '../k8s/support.js';
import { REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { assertBuilt, labgen } from '../workflow/support.js';

const cache = builtLabCache();
afterAll(() => cache.cleanupAll());

const checkObjects = async () => (await cache.get('labs/rpi-slurm/lab.yaml')).objects.filter((o) => o.metadata.namespace === MULTICAST.namespace || o.metadata.name === MULTICAST.namespace);

type JobSpec = { spec: { template: { spec: { containers: { command: string[]; env: { name: string; value?: string }[] }[] } } } };
const script = (o: K8sObject) => (o as unknown as JobSpec).spec.template.spec.containers[0]!.command;
const env = (o: K8sObject) => Object.fromEntries((o as unknown as JobSpec).spec.template.spec.containers[0]!.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

describeE2e('k8s/checks/multicast/ built by kubectl kustomize', { commands: ['kubectl'] }, () => {
  it('a namespace and the two Jobs, each valid by the Kubernetes schemas, images pinned', async () => {
    const objs = await checkObjects();
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Job/multicast-receiver', 'Job/multicast-sender', 'Namespace/labgen-checks']);
    for (const o of objs) (o.kind === 'Job' ? new Job(o as never) : new Namespace(o as never)).validate();
    expect(JSON.stringify(objs)).toContain('docker.io/library/python:3.13.9-alpine3.22');
  });

  it("is not in the root kustomization: k8s/apply.sh never runs the check", async () => {
    const { lab } = await cache.get('labs/rpi-slurm/lab.yaml');
    expect(lab.file('k8s/kustomization.yaml').contents).not.toContain('checks');
  });
});

describeE2e("the Jobs' scripts, run by python3 in a network namespace of their own", { commands: ['kubectl', 'python3', 'unshare', 'ip'], root: true }, () => {
  /** receiver (and sender) in one fresh netns: lo up, multicast routed to it; the receiver's output and exit code */
  async function run(withSender: boolean, wait: number): Promise<{ code: number | null; out: string }> {
    const objs = await checkObjects();
    const receiver = objs.find((o) => o.metadata.name === MULTICAST.receiver)!;
    const sender = objs.find((o) => o.metadata.name === MULTICAST.sender)!;
    const dir = mkdtempSync(join(tmpdir(), 'labgen-mcast-'));
    try {
      writeFileSync(join(dir, 'receiver.py'), script(receiver)[2]!);
      writeFileSync(join(dir, 'sender.py'), script(sender)[2]!);
      const vars = Object.entries({ ...env(receiver), WAIT_SECONDS: String(wait) }).map(([k, v]) => `${k}=${v}`).join(' ');
      const shell = [
        'set -e',
        'ip link set lo up',
        'ip route add 224.0.0.0/4 dev lo',
        `env ${vars} python3 ${dir}/receiver.py & r=$!`,
        withSender ? `sleep 1; env ${vars} NODE=test python3 ${dir}/sender.py >/dev/null & s=$!` : 's=',
        'set +e; wait $r; rc=$?',
        '[ -n "$s" ] && kill $s',
        'exit $rc',
      ].join('\n');
      // the namespace (and every process in it) goes when unshare's shell ends
      const p = spawn('unshare', ['--net', 'sh', '-c', shell], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((ok) => p.on('close', ok));
      return { code, out };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('with the sender: the receiver gets its datagrams and passes', async () => {
    const r = await run(true, 60);
    expect(r.out).toMatch(new RegExp(`^RESULT pass ${MULTICAST.want}/${MULTICAST.want}$`, 'm'));
    expect(r.out).toContain("received 'labgen multicast 0 from test'");
    expect(r.code).toBe(0);
  }, 90_000);

  it('without it: the receiver fails after its wait, saying so', async () => {
    const r = await run(false, 2);
    expect(r.out).toMatch(new RegExp(`^RESULT fail 0/${MULTICAST.want}$`, 'm'));
    expect(r.code).toBe(1);
  }, 60_000);
});

const KUBECTL = String.raw`#!/bin/bash
# labgen test stand-in for kubectl (no cluster here): records argv; answers get job (the receiver's
# status: $bed/job-N.json for the Nth call, else $bed/job.json), get pods ($bed/pods.json), logs
# ($bed/log.txt); anything else succeeds silently
set -u
bed=${'$'}{LABGEN_STANDIN_BED:?}
echo "kubectl $*" >>"$bed/calls"
case " $* " in
  *" get job "*)
    n=$(($(cat "$bed/job-asked" 2>/dev/null || echo 0) + 1)); echo $n >"$bed/job-asked"
    if [ -e "$bed/job-$n.json" ]; then cat "$bed/job-$n.json"; else cat "$bed/job.json"; fi ;;
  *" get pods "*) cat "$bed/pods.json" ;;
  *" logs "*) cat "$bed/log.txt" ;;
esac
exit 0
`;

describe('labgen check multicast (stand-in: kubectl)', () => {
  let root: string;
  let lab: string;
  let bed: string;
  beforeAll(() => {
    assertBuilt();
    root = mkdtempSync(join(tmpdir(), 'labgen-check-'));
    lab = join(root, 'homelab', 'lab.yaml');
    mkdirSync(join(root, 'homelab'));
    copyFileSync(join(REPO_ROOT, 'labs/rpi-slurm/lab.yaml'), lab);
    expect(labgen(['generate', '--lab', lab]).code).toBe(EXIT.ok);
    writeFileSync(join(root, 'homelab', '.labgen/secrets/admin.kubeconfig'), 'apiVersion: v1\nkind: Config\n', { mode: 0o600 });
    bed = join(root, 'bed');
    mkdirSync(join(bed, 'bin'), { recursive: true });
    writeFileSync(join(bed, 'bin', 'kubectl'), KUBECTL);
    chmodSync(join(bed, 'bin', 'kubectl'), 0o755);
  });
  afterAll(() => removeDir(root));

  const pods = (receiver: string, sender: string) =>
    JSON.stringify({
      items: [
        { metadata: { labels: { 'app.kubernetes.io/name': MULTICAST.receiver } }, spec: { nodeName: receiver } },
        { metadata: { labels: { 'app.kubernetes.io/name': MULTICAST.sender } }, spec: { nodeName: sender } },
      ],
    });
  function answers(o: { jobs: object[]; log: string; receiver?: string; sender?: string }): void {
    for (const f of ['calls', 'job-asked', 'job-1.json', 'job-2.json']) rmSync(join(bed, f), { force: true });
    o.jobs.slice(0, -1).forEach((j, i) => writeFileSync(join(bed, `job-${i + 1}.json`), JSON.stringify(j)));
    writeFileSync(join(bed, 'job.json'), JSON.stringify(o.jobs.at(-1)));
    writeFileSync(join(bed, 'pods.json'), pods(o.receiver ?? 'kv-worker-0', o.sender ?? 'kv-worker-1'));
    writeFileSync(join(bed, 'log.txt'), o.log);
  }
  async function check(name = 'multicast', timeoutMs = 60_000) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await checkCommand(name, {
      lab,
      io: { out: (l) => out.push(l), err: (l) => err.push(l), tty: false },
      env: { PATH: `${join(bed, 'bin')}${delimiter}${process.env.PATH}`, LABGEN_STANDIN_BED: bed },
      timing: { pollMs: 10, timeoutMs },
    });
    return { code, out, err, calls: readFileSync(join(bed, 'calls'), 'utf8').trim().split('\n') };
  }
  const passLog = `joined ${MULTICAST.group}:${MULTICAST.port}, waiting for 3 datagrams\nreceived 'labgen multicast 0 from kv-worker-1' from 10.244.2.5\nreceived 'labgen multicast 1 from kv-worker-1' from 10.244.2.5\nreceived 'labgen multicast 2 from kv-worker-1' from 10.244.2.5\nRESULT pass 3/3\n`;

  it('pass: deletes the last run, applies the folder, waits for the receiver, reads its log and the nodes', async () => {
    answers({ jobs: [{ status: { active: 1 } }, { status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } }], log: passLog });
    const r = await check();
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toEqual([`multicast between pods: PASS: 3/3 datagrams to ${MULTICAST.group}:${MULTICAST.port} (sender on kv-worker-1, receiver on kv-worker-0)`]);
    const kc = `--kubeconfig=${join(root, 'homelab', '.labgen/secrets/admin.kubeconfig')}`;
    expect(r.calls[0]).toBe(`kubectl ${kc} delete job multicast-receiver multicast-sender --namespace labgen-checks --ignore-not-found --cascade=foreground --wait=true`);
    expect(r.calls[1]).toBe(`kubectl ${kc} apply -k ${join(root, 'homelab', 'k8s', 'checks', 'multicast')}`);
    expect(r.calls.filter((c) => c.includes(' get job ')).length).toBe(2); // running, then done
    expect(r.calls.at(-1)).toBe(`kubectl ${kc} logs --namespace labgen-checks job/multicast-receiver`);
  });

  it('fail: exit 1, the receiver\'s last lines, and what the lab\'s CNI (flannel) does with multicast', async () => {
    answers({
      jobs: [{ status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } }],
      log: `joined ${MULTICAST.group}:${MULTICAST.port}, waiting for 3 datagrams\nRESULT fail 0/3\n`,
    });
    const r = await check();
    expect(r.code).toBe(EXIT.failure);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toBe(`multicast between pods: FAIL: 0/3 datagrams to ${MULTICAST.group}:${MULTICAST.port} (sender on kv-worker-1, receiver on kv-worker-0)`);
    expect(r.err).toContain('  receiver: RESULT fail 0/3');
    expect(r.err.join('\n')).toContain('flannel: Flannel does not carry multicast between nodes');
    expect(r.err.join('\n')).toContain('kubectl -n labgen-checks logs job/multicast-receiver');
  });

  it('pass with both pods on one node says it shows that node only', async () => {
    answers({ jobs: [{ status: { succeeded: 1 } }], log: passLog, receiver: 'kv-master-0', sender: 'kv-master-0' });
    const r = await check();
    expect(r.code).toBe(EXIT.ok);
    expect(r.out[1]).toContain('both pods ran on one node');
  });

  it('a receiver that never finishes: fail after the timeout, naming it', async () => {
    answers({ jobs: [{ status: { active: 1 } }], log: '' });
    const r = await check('multicast', 0);
    expect(r.code).toBe(EXIT.failure);
    expect(r.err[0]).toContain('the receiver had not finished after 0 s');
  });

  it('bad input, nothing applied: an unknown check; no admin kubeconfig yet', async () => {
    answers({ jobs: [{ status: {} }], log: '' });
    await expect(check('broadcast')).rejects.toThrow(/no check named broadcast/);
    await expect(check('broadcast')).rejects.toMatchObject({ code: EXIT.badInput });
    const cli = labgen(['check', 'broadcast', '--lab', lab]); // through the binary's one error boundary
    expect([cli.code, cli.stderr]).toEqual([EXIT.badInput, 'labgen: no check named broadcast\nhint: the checks: multicast\n']);
    const kc = join(root, 'homelab', '.labgen/secrets/admin.kubeconfig');
    rmSync(kc);
    try {
      const e = await checkCommand('multicast', { lab, io: { out: () => {}, err: () => {} } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LabgenError);
      expect((e as LabgenError).code).toBe(EXIT.badInput);
      expect((e as LabgenError).message).toContain('no admin kubeconfig');
    } finally {
      writeFileSync(kc, 'apiVersion: v1\nkind: Config\n', { mode: 0o600 });
    }
    expect(spawnSync('test', ['-e', join(bed, 'calls')]).status).not.toBe(0);
  });
});
