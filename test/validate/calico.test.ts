/**
 * Calico in provision/control-plane.sh: since Calico 3.30 the operator's CRDs (Installation among
 * them) ship in their own manifest, operator-crds.yaml, which must be created before
 * tigera-operator.yaml; the script then waits for crd/installations.operator.tigera.io. Checked
 * on the generated text, and by running the script's Calico steps against a kubectl stand-in (no
 * API server can run here) that records its calls and, like a real cluster, fails a `wait` for a
 * CRD no manifest created.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UPSTREAM } from '../../generator/plan/support/versions.js';
import { planLab } from '../support/generated.js';

const { calico } = UPSTREAM;
const script = (file: string) =>
  planLab(file, { cluster: { cni: 'calico' } }).files.find((f) => f.path === 'provision/control-plane.sh')!.contents;

/** kubectl stand-in: created manifests → state files; `get` and `wait` answer from them */
const KUBECTL = `#!/bin/bash
# kubectl stand-in (no API server here): records every call in $STANDIN_DIR/calls
echo "kubectl $*" >> "$STANDIN_DIR/calls"
state=$STANDIN_DIR/state
case "$1" in
  create|apply)
    case "\${@: -1}" in
      */operator-crds.yaml) : > "$state/crd-installations.operator.tigera.io" ;;
      */tigera-operator.yaml) : > "$state/namespace-tigera-operator" ;;
      *calico-installation.yaml) : > "$state/installation-default" ;;
      *) echo "kubectl stand-in: unknown manifest \${@: -1}" >&2; exit 1 ;;
    esac ;;
  get) [ -e "$state/$2-$3" ] || { echo "Error from server (NotFound): $2 \\"$3\\" not found" >&2; exit 1; } ;;
  wait)
    for a in "$@"; do
      case "$a" in crd/*)
        [ -e "$state/crd-\${a#crd/}" ] || { echo "error: customresourcedefinitions.apiextensions.k8s.io \\"\${a#crd/}\\" not found" >&2; exit 1; } ;;
      esac
    done ;;
esac
`;

/** the script's Calico steps: from its Calico comment to the workers' join file */
function calicoSteps(text: string): string {
  const start = text.indexOf('# Calico through its operator');
  const end = text.indexOf("# The workers' join file");
  expect(start, 'control-plane.sh has its Calico steps').toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return text.slice(start, end);
}

describe('control-plane.sh installs Calico with its operator CRDs first', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('the pinned operator-crds.yaml is the same Calico release as tigera-operator.yaml', () => {
    expect(calico.operatorCrds).toBe(`https://raw.githubusercontent.com/projectcalico/calico/${calico.version}/manifests/operator-crds.yaml`);
    expect(calico.operator).toBe(`https://raw.githubusercontent.com/projectcalico/calico/${calico.version}/manifests/tigera-operator.yaml`);
  });

  for (const file of ['labs/rpi-slurm/lab.yaml', 'labs/minimal/lab.yaml']) {
    it(`${file}: creates operator-crds.yaml, then tigera-operator.yaml, then waits for the Installation CRD`, () => {
      const steps = calicoSteps(script(file));
      const crds = steps.indexOf(`kubectl apply --server-side --force-conflicts -f ${calico.operatorCrds}`);
      const operator = steps.indexOf(`kubectl apply --server-side --force-conflicts -f ${calico.operator}`);
      const wait = steps.indexOf('kubectl wait --for=condition=Established --timeout=120s crd/installations.operator.tigera.io');
      expect(crds).toBeGreaterThan(-1);
      expect(operator).toBeGreaterThan(crds);
      expect(wait).toBeGreaterThan(operator);
    });

    it(`${file}: its Calico steps run against a kubectl stand-in that fails a wait for a CRD never created; a second run creates nothing`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'labgen-calico-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'kubectl'), KUBECTL, { mode: 0o755 });
      spawnSync('mkdir', [join(dir, 'state')]);
      // the lab folder as the script sets it at its top (the VMs' synced folder)
      const body = `set -euo pipefail\nlab=/vagrant\nchanged=()\n${calicoSteps(script(file))}\necho "changed: \${changed[*]}"\n`;
      writeFileSync(join(dir, 'steps.sh'), body);
      const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, STANDIN_DIR: dir };
      const runSteps = () => spawnSync('bash', [join(dir, 'steps.sh')], { env, encoding: 'utf8' });
      const calls = () => readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean);

      const first = runSteps();
      expect(first.status, first.stderr).toBe(0);
      const created = calls().filter((c) => /^kubectl (create|apply) /.test(c));
      expect(created).toEqual([
        `kubectl apply --server-side --force-conflicts -f ${calico.operatorCrds}`,
        `kubectl apply --server-side --force-conflicts -f ${calico.operator}`,
        'kubectl apply -f /vagrant/provision/calico-installation.yaml',
      ]);
      expect(first.stdout).toContain(`changed: calico operator CRDs ${calico.version} calico operator ${calico.version} calico installation`);

      const before = calls().length;
      const second = runSteps();
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout.trim()).toBe('changed:');
      expect(calls().slice(before).filter((c) => /^kubectl (create|apply) /.test(c))).toEqual([]);
    });
  }

  it('the stand-in is real: without operator-crds.yaml the wait for the Installation CRD fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'labgen-calico-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'kubectl'), KUBECTL, { mode: 0o755 });
    spawnSync('mkdir', [join(dir, 'state')]);
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, STANDIN_DIR: dir };
    const r = spawnSync(
      'bash',
      ['-c', `set -e; kubectl create -f ${calico.operator}; kubectl wait --for=condition=Established --timeout=120s crd/installations.operator.tigera.io`],
      { env, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('"installations.operator.tigera.io" not found');
  });
});
