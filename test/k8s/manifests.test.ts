/**
 * k8s/ (issue #4), built by the real `kubectl kustomize` exactly as k8s/apply.sh builds it,
 * offline (no remote resource anywhere in the tree), for both example labs and variants; every
 * object of the output is validated:
 * - core kinds with kubernetes-models (the Kubernetes OpenAPI schemas);
 * - cert-manager kinds with @kubernetes-models/cert-manager;
 * - MetalLB and Gateway API kinds against the upstream CRDs' openAPIV3Schema, vendored in
 *   test/fixtures/crds/ (ajv; its README names each file's project, version and URL). A missing
 *   CRD file is a failure, never a skip.
 * A kind none of these knows fails the test: every object labgen writes is checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Certificate, ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Ajv, type ValidateFunction } from 'ajv';
import yaml from 'js-yaml';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { UPSTREAM } from '../../generator/plan/support/versions.js';
import { REPO_ROOT } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { builtLabCache, K8S_LABS, type K8sObject } from './support.js';

type Validator = (obj: K8sObject) => void;
const model =
  (Model: new (data: never) => { validate(): void }): Validator =>
  (obj) =>
    new Model(obj as never).validate();

/** apiVersion/kind → the typed model that validates it. */
const MODELS: Record<string, Validator> = {
  'v1/Namespace': model(Namespace),
  'v1/Service': model(Service),
  'v1/ServiceAccount': model(ServiceAccount),
  'v1/Secret': model(Secret),
  'v1/ConfigMap': model(ConfigMap),
  'v1/PersistentVolumeClaim': model(PersistentVolumeClaim),
  'apps/v1/Deployment': model(Deployment),
  'apps/v1/DaemonSet': model(DaemonSet),
  'batch/v1/Job': model(Job),
  'rbac.authorization.k8s.io/v1/ClusterRole': model(ClusterRole),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': model(ClusterRoleBinding),
  'rbac.authorization.k8s.io/v1/Role': model(Role),
  'rbac.authorization.k8s.io/v1/RoleBinding': model(RoleBinding),
  'storage.k8s.io/v1/StorageClass': model(StorageClass),
  'cert-manager.io/v1/Certificate': model(Certificate),
  'cert-manager.io/v1/ClusterIssuer': model(ClusterIssuer),
};

const CRD_DIR = join(REPO_ROOT, 'test', 'fixtures', 'crds');
const CRD_GROUPS = ['metallb.io', 'gateway.networking.k8s.io'];
/** folder of test/fixtures/crds/ → the project's version labgen pins, and the kinds labgen writes of it */
const CRD_FOLDERS = {
  metallb: { version: UPSTREAM.metallb.version, kinds: ['metallb.io/v1beta1/IPAddressPool', 'metallb.io/v1beta1/L2Advertisement'] },
  'gateway-api': {
    version: UPSTREAM.gatewayApi.version,
    kinds: ['gateway.networking.k8s.io/v1/GatewayClass', 'gateway.networking.k8s.io/v1/Gateway', 'gateway.networking.k8s.io/v1/HTTPRoute'],
  },
};

interface Crd {
  metadata: { annotations?: Record<string, string> };
  spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: object } }[] };
}

/** Every CRD file of a folder of test/fixtures/crds/, parsed (a missing folder throws: a failure, not a skip). */
function crdFiles(dir: string): { file: string; crd: Crd }[] {
  return readdirSync(join(CRD_DIR, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file: `${dir}/${file}`, crd: yaml.load(readFileSync(join(CRD_DIR, dir, file), 'utf8')) as Crd }));
}

/** apiVersion/kind → ajv validator of the CRD's schema, for every CRD file in test/fixtures/crds/. */
function crdValidators(): Record<string, ValidateFunction> {
  // CRD schemas use OpenAPI and x-kubernetes-* keywords and Kubernetes formats: ignored here
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true, logger: false });
  const out: Record<string, ValidateFunction> = {};
  for (const dir of Object.keys(CRD_FOLDERS))
    for (const { crd } of crdFiles(dir))
      for (const v of crd.spec.versions) out[`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`] = ajv.compile(v.schema.openAPIV3Schema);
  return out;
}

let crds: Record<string, ValidateFunction> | undefined;

/**
 * kustomize wraps long base64 values of generated Secrets at 70 columns; the API server's
 * decoder (Go's encoding/base64) skips those newlines, kubernetes-models' "byte" format does not.
 */
function unwrapSecretData(obj: K8sObject): K8sObject {
  if (obj.kind !== 'Secret' || !obj.data) return obj;
  const data = Object.fromEntries(Object.entries(obj.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]));
  return { ...obj, data };
}

function validate(obj: K8sObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const m = MODELS[key];
  if (m) return m(unwrapSecretData(obj));
  if (CRD_GROUPS.includes(obj.apiVersion.split('/')[0]!)) {
    crds ??= crdValidators();
    const v = crds[key];
    if (!v) throw new Error(`${key}: no CRD schema for it in test/fixtures/crds/ (vendor its upstream CRD there, see its README.md)`);
    const data: unknown = obj;
    if (!v(data)) throw new Error(`${key} ${obj.metadata.name}: ${JSON.stringify(v.errors)}`);
    return;
  }
  throw new Error(`${key}: labgen writes it, but no test validates it (add its model)`);
}

describe('the vendored CRD schemas (test/fixtures/crds/)', () => {
  const readme = readFileSync(join(CRD_DIR, 'README.md'), 'utf8');

  it.each(Object.entries(CRD_FOLDERS))('%s: a schema for every kind labgen writes of it', (dir, { kinds }) => {
    const found = crdFiles(dir).flatMap(({ crd }) => crd.spec.versions.map((v) => `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`));
    expect(found).toEqual(expect.arrayContaining(kinds));
  });

  it.each(Object.entries(CRD_FOLDERS))('%s: the version labgen pins, each file named in the README with it', (dir, { version }) => {
    for (const { file, crd } of crdFiles(dir)) {
      const bundle = crd.metadata.annotations?.['gateway.networking.k8s.io/bundle-version'];
      if (bundle) expect(bundle, file).toBe(version);
      const row = readme.split('\n').find((l) => l.startsWith(`| ${file} |`));
      expect(row, `${file} has no row in test/fixtures/crds/README.md`).toBeDefined();
      expect(row!.split('|').map((c) => c.trim())[3], file).toBe(version);
      expect(row, file).toContain(`/${version}/`);
    }
  });
});

const cache = builtLabCache();
afterAll(() => cache.cleanupAll());

describeE2e('k8s/ built by kubectl kustomize', { commands: ['kubectl'] }, () => {
  describe.each(K8S_LABS)('$name', ({ file, overrides }) => {
    it('builds offline: no kustomization names a remote resource', async () => {
      const { lab, objects } = await cache.get(file, overrides);
      expect(objects.length).toBeGreaterThan(0);
      for (const k of lab.matching(/^k8s\/.*kustomization\.yaml$/)) {
        const doc = yaml.load(k.contents) as { resources?: string[] };
        for (const r of doc.resources ?? []) expect(r, k.path).not.toMatch(/:\/\/|^github\.com\//);
      }
    });

    it('every object validates against its schema', async () => {
      const { objects } = await cache.get(file, overrides);
      const errors: string[] = [];
      for (const o of objects) {
        try {
          validate(o);
        } catch (e) {
          errors.push(`${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}: ${(e as Error).message}`);
        }
      }
      expect(errors).toEqual([]);
    });

    it('generated Secrets and ConfigMaps are referenced by their hashed names, and exist', async () => {
      const { objects } = await cache.get(file, overrides);
      const names = new Set(objects.filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap').map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
      const refs = objects.flatMap((o) => {
        const pod = (o.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec;
        if (!pod) return [];
        const text = JSON.stringify(pod);
        const found = [...text.matchAll(/"(?:secretName|name)":"([a-z0-9-]+)"/g)].map((m) => m[1]!);
        return found.filter((n) => /-[a-z0-9]{10}$/.test(n)).map((n) => `${o.metadata.namespace}/${n}`);
      });
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(names, r).toContain(r);
    });
  });

  it('the validators reject a broken object of each family (they do check)', async () => {
    const { objects } = await cache.get('labs/rpi-slurm/lab.yaml');
    const broken = (kind: string, spoil: (o: Record<string, any>) => void) => {
      const o = structuredClone(objects.find((x) => x.kind === kind)) as Record<string, any>;
      spoil(o);
      return () => validate(o as K8sObject);
    };
    expect(broken('Deployment', (o) => delete o.spec.template.spec.containers[0].name)).toThrow();
    expect(broken('Job', (o) => (o.spec.backoffLimit = 'none'))).toThrow();
    expect(broken('Certificate', (o) => (o.spec.issuerRef = 'lab-ca'))).toThrow();
    expect(broken('Gateway', (o) => (o.spec.listeners[0].protocol = 7))).toThrow();
    expect(broken('HTTPRoute', (o) => (o.spec.parentRefs = 'lab'))).toThrow();
    expect(broken('IPAddressPool', (o) => (o.spec.addresses = '10.0.0.10-10.0.0.49'))).toThrow();
  });

  it('the lab secrets never appear in the built objects in clear', async () => {
    const { objects } = await cache.get('labs/rpi-slurm/lab.yaml');
    const text = JSON.stringify(objects);
    for (const secret of ['fixedregistrypassword000', 'fixedgrafanapassword0000']) expect(text).not.toContain(secret);
  });
});
