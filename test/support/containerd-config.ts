/**
 * What containerd read: `containerd config dump` against what the config labgen writes for each
 * containerd major must say (test/vm/containerd.test.ts on test hosts, the VM test bed on its VMs).
 */
import { expect } from 'vitest';
import { pauseImage } from '../../generator/plan/support/versions.js';

/** `containerd config dump` as {table header: {key: raw value}} (its dump has one key = value per line). */
export function tomlTables(text: string): Map<string, Map<string, string>> {
  const tables = new Map<string, Map<string, string>>([['', new Map()]]);
  let current = tables.get('')!;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      tables.set(header[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z0-9_."'-]+)\s*=\s*(.*)$/.exec(line);
    if (kv) current.set(kv[1]!, kv[2]!);
  }
  return tables;
}

/** what the config containerd 2.x read (version 3) must say, for Kubernetes `minor` */
export function expectV3(dump: string, minor: string) {
  const t = tomlTables(dump);
  const images = "plugins.'io.containerd.cri.v1.images'";
  const runtime = "plugins.'io.containerd.cri.v1.runtime'";
  expect(t.get('')?.get('version')).toBe('3');
  expect(t.get(`${images}.pinned_images`)?.get('sandbox')).toBe(`'${pauseImage(minor)}'`);
  expect(t.get(`${images}.registry`)?.get('config_path')).toBe("'/etc/containerd/certs.d'");
  expect(t.get(`${runtime}.containerd`)?.get('default_runtime_name')).toBe("'runc'");
  expect(t.get(`${runtime}.containerd.runtimes.runc`)?.get('runtime_type')).toBe("'io.containerd.runc.v2'");
  expect(t.get(`${runtime}.containerd.runtimes.runc.options`)?.get('SystemdCgroup')).toBe('true');
}

/** what the config containerd 1.7 read (version 2) must say, for Kubernetes `minor` */
export function expectV2(dump: string, minor: string) {
  const t = tomlTables(dump);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  expect(t.get('')?.get('version')).toBe('2');
  expect(t.get(cri)?.get('sandbox_image')).toBe(JSON.stringify(pauseImage(minor)));
  expect(t.get(`${cri}.registry`)?.get('config_path')).toBe('"/etc/containerd/certs.d"');
  expect(t.get(`${cri}.containerd`)?.get('default_runtime_name')).toBe('"runc"');
  expect(t.get(`${cri}.containerd.runtimes.runc`)?.get('runtime_type')).toBe('"io.containerd.runc.v2"');
  expect(t.get(`${cri}.containerd.runtimes.runc.options`)?.get('SystemdCgroup')).toBe('true');
}
