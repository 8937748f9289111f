/**
 * Waiting for the nodes to be Ready: the real kubectl (`get nodes -o json`) against a test API
 * server on 127.0.0.1 (plain HTTP; it answers discovery and the node list as kube-apiserver
 * does), so what labgen parses is what kubectl prints. Timeouts are generous and no duration is
 * asserted: the server counts requests, the test counts answers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandError } from '../../drivers/base/failure.js';
import { LocalRunner } from '../../drivers/base/local.js';
import type { ExecResult, Runner } from '../../drivers/base/runner.js';
import { readyNodes, waitReady } from '../../drivers/up/cluster.js';
import { describeE2e } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';

const NODES = ['kv-master-0', 'kv-worker-0'];

describeE2e('waiting for the nodes: the real kubectl against a test API server', { commands: ['kubectl'] }, () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;
  let runner: LocalRunner;
  /** per request of the node list: 'unavailable' (503), or the workers' Ready status */
  let answers: ('unavailable' | 'False' | 'True')[] = [];
  let asked = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const json = (o: unknown, code = 200) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      if (path === '/api') return json({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
      if (path === '/apis') return json({ kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
      if (path === '/api/v1') return json({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['get', 'list'] }] });
      if (path === '/api/v1/nodes') {
        const a = answers[Math.min(asked++, answers.length - 1)] ?? 'True';
        if (a === 'unavailable') return json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'the server is currently unable to handle the request', reason: 'ServiceUnavailable', code: 503 }, 503);
        const node = (name: string, ready: string) => ({ kind: 'Node', apiVersion: 'v1', metadata: { name }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }] } });
        return json({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [node(NODES[0]!, 'True'), node(NODES[1]!, a)] });
      }
      json({ kind: 'Status', code: 404 }, 404);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'labgen-up-nodes-'));
    kubeconfig = join(dir, 'admin.kubeconfig');
    const port = (server.address() as AddressInfo).port;
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: homelab, cluster: {server: "http://127.0.0.1:${port}"}}]\n` +
        'users: [{name: admin, user: {}}]\ncontexts: [{name: admin, context: {cluster: homelab, user: admin}}]\ncurrent-context: admin\n',
      { mode: 0o600 },
    );
    // kubectl keeps its discovery cache under HOME: the test's own
    runner = new LocalRunner({ cwd: dir, env: { HOME: dir } });
  });
  afterAll(async () => {
    runner?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (dir) removeDir(dir);
  });

  it('waits through an API that does not answer yet and a worker NotReady, saying so each time, until every node is Ready', async () => {
    answers = ['unavailable', 'False', 'False', 'True'];
    asked = 0;
    const steps: string[] = [];
    await waitReady(runner, kubeconfig, NODES, { pollMs: 10, readyTimeoutMs: 120_000 }, (s) => steps.push(s), 'api.home.lab');
    expect(steps).toHaveLength(3);
    expect(steps[0]).toMatch(/^the API does not answer yet: .*unable to handle the request/);
    expect(steps.slice(1)).toEqual(['nodes Ready 1/2; waiting for kv-worker-0', 'nodes Ready 1/2; waiting for kv-worker-0']);
  });

  it('gives up after its timeout, naming the node it waited for', async () => {
    answers = ['False'];
    asked = 0;
    const err = await waitReady(runner, kubeconfig, NODES, { pollMs: 10, readyTimeoutMs: 300 }, () => undefined, 'api.home.lab').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).step).toBe('nodes Ready');
    expect((err as CommandError).stderrTail).toMatch(/^not Ready after \d+ min: nodes Ready 1\/2; waiting for kv-worker-0$/);
  });

  it("reads the node list as the real kubectl prints it", async () => {
    answers = ['False'];
    asked = 0;
    const r = await runner.exec(`kubectl --kubeconfig=${kubeconfig} get nodes -o json`);
    expect(r.code, r.stderr).toBe(0);
    expect(readyNodes(r.stdout)).toEqual(new Map([['kv-master-0', true], ['kv-worker-0', false]]));
  });
});

it("the API's name not resolving here stops the wait at once, with the hint to the laptop's hosts file (kubectl's answer given)", async () => {
  // kubectl's own words for a name it cannot resolve; the real lookup would ask this machine's DNS server
  const said: ExecResult = { code: 1, stdout: '', stderr: 'E1201 memcache.go:265] couldn\'t get current server API group list: Get "https://api.home.lab:6443/api?timeout=32s": dial tcp: lookup api.home.lab on 127.0.0.53:53: no such host\nUnable to connect to the server: dial tcp: lookup api.home.lab on 127.0.0.53:53: no such host' };
  let calls = 0;
  const answering: Runner = { host: 'cluster', exec: async () => (calls++, said), run: async () => '', close: () => undefined };
  const err = await waitReady(answering, '/x', NODES, { pollMs: 10, readyTimeoutMs: 600_000 }, () => undefined, 'api.home.lab').catch((e: unknown) => e);
  expect(calls).toBe(1);
  expect((err as CommandError).stderrTail).toMatch(/^api\.home\.lab does not resolve on this machine: add laptop\/hosts to \/etc\/hosts \(the lab guide's step 2\)\n/);
});
