/**
 * The keys of one provider that lab.yaml may not set under another: Vagrant's VMs (box, bridge,
 * the VMs' size, workers counted from firstIp) against hosts that exist already (cluster.ssh,
 * workers.hosts, data disks). Checked on lab.yaml as written, before defaults: workers.count has
 * a default, so only the text tells a count the user wrote from one the schema filled in.
 */

/** Keys only Vagrant's providers read, as lab.yaml paths. */
export const VAGRANT_KEYS = [
  'cluster.box',
  'cluster.bridge',
  'cluster.controlPlane.cpus',
  'cluster.controlPlane.memory',
  'cluster.workers.count',
  'cluster.workers.namePrefix',
  'cluster.workers.firstIp',
  'cluster.workers.cpus',
  'cluster.workers.memory',
] as const;

/** Keys only provider existing reads. */
export const EXISTING_KEYS = ['cluster.ssh', 'cluster.controlPlane.disk', 'cluster.workers.hosts'] as const;

export const PROVIDER_KEYS_DOC = {
  says:
    'With `cluster.provider: existing` the Vagrant keys (`cluster.box`, `cluster.bridge`, the VMs\' `cpus` and `memory`, `cluster.workers.count`, `namePrefix` and `firstIp`) are not set, and `cluster.ssh` is; ' +
    'with a Vagrant provider `cluster.ssh`, `cluster.workers.hosts` and the hosts\' `disk` are not set. Checked on lab.yaml as written.',
  keys: ['cluster.provider', ...VAGRANT_KEYS, ...EXISTING_KEYS, 'cluster.workers.hosts[].disk'],
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function has(input: unknown, path: string): boolean {
  let v: unknown = input;
  for (const k of path.split('.')) {
    if (!isObject(v) || !(k in v)) return false;
    v = v[k];
  }
  return v !== undefined && v !== null;
}

/** Every key set for the wrong provider, as `path: message`; a provider that is not one (the schema says so) is left alone. */
export function providerKeyProblems(input: unknown): string[] {
  if (!isObject(input) || !isObject(input.cluster)) return [];
  const provider = input.cluster.provider ?? 'virtualbox';
  if (provider === 'existing') {
    const set = VAGRANT_KEYS.filter((k) => has(input, k));
    const problems = set.map(
      (k) => `${k}: a key of Vagrant's VMs; with cluster.provider existing the hosts are there already${k.startsWith('cluster.workers.') ? ' (list the workers in cluster.workers.hosts)' : ''}`,
    );
    if (!has(input, 'cluster.ssh')) problems.push('cluster.ssh: required when cluster.provider is existing (at least cluster.ssh.user, who labgen logs in as)');
    return problems;
  }
  if (provider !== 'virtualbox' && provider !== 'libvirt') return [];
  const hosts = (isObject(input.cluster.workers) && Array.isArray(input.cluster.workers.hosts) ? input.cluster.workers.hosts : []) as unknown[];
  return [
    ...EXISTING_KEYS.filter((k) => has(input, k)).map((k) => `${k}: only read with cluster.provider existing (the provider is ${String(provider)})`),
    ...hosts.flatMap((h, i) => (isObject(h) && h.disk !== undefined ? [`cluster.workers.hosts[${i}].disk: only read with cluster.provider existing`] : [])),
  ];
}
