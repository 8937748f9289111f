/**
 * `labgen export --terraform` (issue #14) through the built CLI, on a generated seed lab: main.tf
 * and variables.tf parsed by a real HCL parser (@cdktf/hcl2json: HashiCorp's hcl library built
 * to wasm, offline), then:
 * - every resource type is one of terraform-provider-openstack's (its docs' resource names);
 * - every reference (var., local., a resource) resolves to something the files declare;
 * - no credential is in the files (the provider reads variables only; none of the lab's secrets
 *   appears), and the key pair is the lab key's public half;
 * - one security-group rule per port of the cluster-port table, for each CNI;
 * - `terraform fmt -check` when a terraform binary is on PATH (it is no Debian package).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../generator/errors.js';
import { planMainTf } from '../../generator/plan/export/main-tf.js';
import { clusterHosts } from '../../generator/plan/support/cluster-hosts.js';
import { attr, blank, block, expr, hcl } from '../../generator/plan/support/hcl.js';
import { clusterPorts } from '../../generator/plan/support/cluster-ports.js';
import { generateLab, REPO_ROOT } from '../support/generated.js';
import { onPath } from '../support/prereq.js';
import { removeDir } from '../support/tree.js';
import { assertBuilt, labgen } from '../workflow/support.js';

// hcl2json is CommonJS with its own types
import hcl2json from '@cdktf/hcl2json';

/**
 * The resources of terraform-provider-openstack this export may use: the names its registry
 * docs list (docs/resources/<name without openstack_>.md in terraform-provider-openstack/
 * terraform-provider-openstack).
 */
const OPENSTACK_RESOURCES = new Set([
  'openstack_compute_instance_v2',
  'openstack_compute_keypair_v2',
  'openstack_compute_volume_attach_v2',
  'openstack_blockstorage_volume_v3',
  'openstack_networking_network_v2',
  'openstack_networking_subnet_v2',
  'openstack_networking_router_v2',
  'openstack_networking_router_interface_v2',
  'openstack_networking_secgroup_v2',
  'openstack_networking_secgroup_rule_v2',
  'openstack_networking_port_v2',
  'openstack_networking_floatingip_v2',
  'openstack_networking_floatingip_associate_v2',
]);

type Blocks = Record<string, Record<string, unknown>[]>;
interface Tf {
  resource?: Record<string, Blocks>;
  variable?: Blocks;
  locals?: Record<string, unknown>[];
  provider?: Blocks;
  output?: Blocks;
  terraform?: unknown[];
}

const parse = (name: string, text: string) => hcl2json.parse(name, text) as Promise<Tf>;

/** Every string in a parsed value (hcl2json writes each expression as "${…}"). */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

/** The references of an expression: `root.name`, roots bound by a `for` in it left out. */
function references(text: string): { root: string; name: string }[] {
  const bound = new Set([...text.matchAll(/\bfor\s+(\w+)(?:\s*,\s*(\w+))?\s+in\b/g)].flatMap((m) => [m[1]!, m[2]].filter(Boolean) as string[]));
  const inner = [...text.matchAll(/\$\{([\s\S]*?)\}(?=[^}]*$|")/g)].map((m) => m[1]!).join(' ') || text;
  const noStrings = inner.replace(/"[^"]*"/g, '""');
  return [...noStrings.matchAll(/(?<![\w.-])([a-z_][a-z0-9_]*)\.([a-zA-Z_][\w-]*)/g)].map((m) => ({ root: m[1]!, name: m[2]! })).filter((r) => !bound.has(r.root));
}

let root: string;
let dir: string;
let main: string;
let variables: string;
let tf: Tf;
beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'labgen-export-terraform-'));
  dir = join(root, 'homelab');
  mkdirSync(dir);
  copyFileSync(join(REPO_ROOT, 'labs/rpi-slurm/lab.yaml'), join(dir, 'lab.yaml'));
  expect(labgen(['generate', '--lab', join(dir, 'lab.yaml')]).code).toBe(EXIT.ok);
  const r = labgen(['export', '--terraform', '--out', join(root, 'tf'), '--lab', join(dir, 'lab.yaml')]);
  expect(r.code, r.stderr).toBe(EXIT.ok);
  expect(r.stdout).toContain(`wrote ${join(root, 'tf')}/: main.tf, variables.tf`);
  main = readFileSync(join(root, 'tf', 'main.tf'), 'utf8');
  variables = readFileSync(join(root, 'tf', 'variables.tf'), 'utf8');
  tf = { ...(await parse('main.tf', main)), variable: (await parse('variables.tf', variables)).variable! };
});
afterAll(() => removeDir(root));

describe('labgen export --terraform, parsed by HCL (hcl2json)', () => {
  it('the parser rejects what is not HCL (the parse can fail)', async () => {
    await expect(parse('bad.tf', 'resource "x" "y" {\n  a = \n')).rejects.toThrow();
  });

  it("every resource type is one of terraform-provider-openstack's, and the seed's parts are all there", () => {
    const types = Object.keys(tf.resource!);
    for (const t of types) expect(OPENSTACK_RESOURCES, t).toContain(t);
    for (const t of ['openstack_networking_network_v2', 'openstack_networking_subnet_v2', 'openstack_networking_router_v2', 'openstack_networking_router_interface_v2',
      'openstack_networking_secgroup_v2', 'openstack_networking_secgroup_rule_v2', 'openstack_compute_keypair_v2', 'openstack_compute_instance_v2',
      'openstack_blockstorage_volume_v3', 'openstack_compute_volume_attach_v2', 'openstack_networking_floatingip_v2', 'openstack_networking_floatingip_associate_v2'])
      expect(types).toContain(t);
    expect(JSON.stringify(tf.terraform)).toContain('terraform-provider-openstack/openstack');
  });

  it('every reference resolves to a declared variable, local or resource', () => {
    const declared = new Set(Object.entries(tf.resource!).flatMap(([t, byName]) => Object.keys(byName).map((n) => `${t}.${n}`)));
    const vars = new Set(Object.keys(tf.variable!));
    const locals = new Set((tf.locals ?? []).flatMap((l) => Object.keys(l)));
    const refs = strings({ resource: tf.resource, provider: tf.provider, output: tf.output, locals: tf.locals }).filter((s) => s.includes('${')).flatMap(references);
    expect(refs.length).toBeGreaterThan(20);
    const unresolved = refs.filter(({ root: r, name }) => {
      if (r === 'var') return !vars.has(name);
      if (r === 'local') return !locals.has(name);
      if (r === 'each') return !['key', 'value'].includes(name);
      if (r.startsWith('openstack_')) return !declared.has(`${r}.${name}`);
      return true; // any other root (data., path., module.) is not declared here
    });
    expect(unresolved).toEqual([]);
  });

  it('no credential in the files: the provider reads variables only, credentials have no value, none of the lab secrets appears', () => {
    const provider = tf.provider!.openstack![0]!;
    expect(Object.keys(provider).length).toBeGreaterThan(4);
    for (const [k, v] of Object.entries(provider)) expect(v, k).toMatch(/^\$\{var\.os_[a-z_]+\}$/);
    for (const [name, [v]] of Object.entries(tf.variable!).filter(([n]) => n.startsWith('os_'))) expect(v!.default ?? null, name).toBeNull();
    expect(tf.variable!.os_password![0]!.sensitive).toBe(true);
    const text = main + variables;
    const secrets = join(dir, '.labgen', 'secrets');
    const files = readdirSync(secrets, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(secrets, f)).isFile() && f !== 'id_ed25519.pub');
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const lines = readFileSync(join(secrets, f), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length >= 12 && !/^-----/.test(l));
      for (const l of lines) expect(text.includes(l), `.labgen/secrets/${f} is in the export`).toBe(false);
    }
    expect(text).not.toMatch(/PRIVATE KEY/);
  });

  it("the key pair is the lab key's public half; each VM of lab.yaml at its address", async () => {
    const keypair = tf.resource!.openstack_compute_keypair_v2!.lab![0]!;
    expect(keypair.public_key).toBe(readFileSync(join(dir, '.labgen', 'secrets', 'id_ed25519.pub'), 'utf8').trim());
    const vms = (tf.locals![0]!.vms as Record<string, { ip: string }>);
    expect(Object.fromEntries(Object.entries(vms).map(([n, v]) => [n, v.ip]))).toEqual({
      'kv-master-0': '10.0.0.210', 'kv-worker-0': '10.0.0.220', 'kv-worker-1': '10.0.0.221', 'kv-worker-2': '10.0.0.222',
    });
    expect(tf.resource!.openstack_networking_subnet_v2!.lab![0]!.cidr).toBe('10.0.0.0/24');
    expect(String(tf.resource!.openstack_networking_floatingip_associate_v2!.control_plane![0]!.port_id)).toContain('vm["kv-master-0"]');
  });

  it.each(['flannel', 'calico', 'cilium'] as const)('%s: a rule per port of the cluster-port table, open inside the subnet', async (cni) => {
    const lab = await generateLab('labs/rpi-slurm/lab.yaml', { cluster: { cni } });
    try {
      const parsed = await parse('main.tf', planMainTf(lab.lab, 'ssh-ed25519 AAAA test'));
      const rules = parsed.resource!.openstack_networking_secgroup_rule_v2!;
      for (const p of clusterPorts(lab.lab)) {
        const r = rules[p.name]?.[0];
        expect(r, p.name).toBeDefined();
        expect(r!.protocol).toBe(p.protocol);
        expect(r!.port_range_min ?? null).toBe(p.ports?.[0] ?? null);
        expect(r!.port_range_max ?? null).toBe(p.ports?.[1] ?? null);
        expect(r!.remote_ip_prefix).toBe('${openstack_networking_subnet_v2.lab.cidr}');
      }
      expect(rules.kube_apiserver![0]!.port_range_min).toBe(6443);
      expect(Object.keys(parsed.locals![0]!.vms as object)).toEqual(clusterHosts(lab.lab).map((h) => h.name));
    } finally {
      await lab.cleanup();
    }
  });

  it('a name from lab.yaml cannot become an HCL template: ${ is escaped', async () => {
    const lab = await generateLab('labs/minimal/lab.yaml');
    try {
      const text = planMainTf({ ...lab.lab, name: 'x${var.os_password}' } as typeof lab.lab, 'ssh-ed25519 AAAA test');
      // HCL's escape for a literal "${" is "$${" (hcl2json prints both the same, so the text is what tells)
      expect(text).toContain('"x$${var.os_password}-net"');
      const code = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n'); // a comment is never evaluated
      expect(code).not.toMatch(/[^$]\$\{var\.os_password\}/);
      await expect(parse('main.tf', text)).resolves.toBeDefined();
    } finally {
      await lab.cleanup();
    }
  });
});

/** The HCL writer's shapes beyond what the export uses today: nested objects, a list of objects, empty ones. */
const SHAPES = hcl([
  block('locals', [], [
    attr('a', 1),
    attr('long_name', 'x'),
    attr('nested', { inner: { deep: true, 'not-an-ident x': null }, list: ['a', 'b'] }),
    attr('objects', [{ k: 1 }, { k: 2, kk: 3 }]),
    attr('empty', {}),
    attr('after', expr('local.a + 1')),
  ]),
  blank,
  block('resource', ['openstack_networking_network_v2', 'x'], []),
]);

describe('the HCL writer', () => {
  it('its shapes parse (hcl2json) to the values given', async () => {
    const parsed = await parse('shapes.tf', SHAPES);
    expect(parsed.locals![0]).toMatchObject({ a: 1, long_name: 'x', nested: { inner: { deep: true, 'not-an-ident x': null }, list: ['a', 'b'] }, objects: [{ k: 1 }, { k: 2, kk: 3 }], empty: {} });
  });
});

describe('terraform fmt', () => {
  const has = onPath('terraform');
  if (!has) console.log('skip: terraform fmt -check (no terraform on PATH; it is not a Debian package)');
  const fmt = (path: string) => spawnSync('terraform', ['fmt', '-check', '-diff', path], { encoding: 'utf8', env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' } });
  it.skipIf(!has)('the exported files, and the writer\'s other shapes, are as terraform fmt writes them', () => {
    const r = fmt(join(root, 'tf'));
    expect(r.status, r.stdout + r.stderr).toBe(0);
    writeFileSync(join(root, 'shapes.tf'), SHAPES);
    const s = fmt(join(root, 'shapes.tf'));
    expect(s.status, s.stdout + s.stderr).toBe(0);
    writeFileSync(join(root, 'misaligned.tf'), 'locals {\n  a = 1\n  long_name = 2\n}\n');
    expect(fmt(join(root, 'misaligned.tf')).status).not.toBe(0); // fmt -check can fail
  });
});
