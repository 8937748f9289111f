import { describe, expect, it } from 'vitest';
import { checkKubeadmConfig, KNOWN_KINDS } from './kubeadm-api.js';

/** a realistic control-plane config of the shape labgen writes for `kubeadm init --config` */
const INIT = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
  - token: abcdef.0123456789abcdef
    ttl: 24h0m0s
    usages: [signing, authentication]
    groups: [system:bootstrappers:kubeadm:default-node-token]
nodeRegistration:
  name: cp1
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: IfNotPresent
  kubeletExtraArgs:
    - name: node-ip
      value: 10.0.0.210
  taints:
    - key: node-role.kubernetes.io/control-plane
      effect: NoSchedule
localAPIEndpoint:
  advertiseAddress: 10.0.0.210
  bindPort: 6443
timeouts:
  controlPlaneComponentHealthCheck: 4m0s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: stable-1.34
clusterName: homelab
controlPlaneEndpoint: api.home.lab:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs:
    - api.home.lab
    - 10.0.0.210
  extraArgs:
    - name: advertise-address
      value: 10.0.0.210
controllerManager:
  extraArgs:
    - name: bind-address
      value: 0.0.0.0
etcd:
  local:
    dataDir: /var/lib/etcd
    extraArgs:
      - name: listen-metrics-urls
        value: http://0.0.0.0:2381
dns:
  disabled: false
proxy:
  disabled: false
encryptionAlgorithm: ECDSA-P256
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
serverTLSBootstrap: true
maxPods: 110
failSwapOn: false
evictionHard:
  memory.available: 100Mi
  nodefs.available: 10%
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
    cacheTTL: 2m0s
authorization:
  mode: Webhook
shutdownGracePeriod: 30s
`;

const JOIN = `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
nodeRegistration:
  name: worker1
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    - name: node-ip
      value: 10.0.0.211
discovery:
  file:
    kubeConfigPath: /vagrant/.kube/cluster-info.yaml
  tlsBootstrapToken: abcdef.0123456789abcdef
`;

/** INIT with `from` replaced by `to` (which must occur exactly once) */
function initWith(from: string, to: string): string {
  expect(INIT.split(from)).toHaveLength(2);
  return INIT.replace(from, to);
}

describe('checkKubeadmConfig: valid files', () => {
  it('accepts a realistic v1beta4 InitConfiguration + ClusterConfiguration + KubeletConfiguration', () => {
    expect(checkKubeadmConfig(INIT)).toEqual([]);
  });

  it('accepts a JoinConfiguration with file discovery and nodeRegistration', () => {
    expect(checkKubeadmConfig(JOIN)).toEqual([]);
  });

  it('accepts a join with bootstrap-token discovery that joins a control-plane node', () => {
    const yamlText = `apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: api.home.lab:6443
    token: abcdef.0123456789abcdef
    caCertHashes: [sha256:0123]
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 10.0.0.212
    bindPort: 6443
  certificateKey: e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204
timeouts:
  discovery: 5m0s
  tlsBootstrap: 5m0s
`;
    expect(checkKubeadmConfig(yamlText)).toEqual([]);
  });

  it('accepts the other kinds kubeadm reads from a config file', () => {
    const yamlText = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ResetConfiguration
force: true
cleanupTmpDir: true
unmountFlags: [MNT_DETACH]
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: UpgradeConfiguration
apply:
  certificateRenewal: true
  forceUpgrade: true
  skipPhases: [addon/kube-proxy]
  imagePullPolicy: IfNotPresent
plan:
  etcdUpgrade: false
node:
  etcdUpgrade: true
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clusterCIDR: 10.244.0.0/16
conntrack:
  maxPerCore: 0
`;
    expect(checkKubeadmConfig(yamlText)).toEqual([]);
    expect(Object.keys(KNOWN_KINDS)).toEqual(
      expect.arrayContaining(['InitConfiguration', 'ClusterConfiguration', 'JoinConfiguration', 'KubeletConfiguration']),
    );
  });

  it('accepts nested kubelet structures (logging, taints, reserved memory, crash-loop back-off)', () => {
    const yamlText = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
logging:
  format: json
  flushFrequency: 5s
  verbosity: 2
  vmodule: [{filePattern: kubelet, verbosity: 4}]
  options:
    json: {infoBufferSize: "0"}
registerWithTaints: [{key: dedicated, value: gpu, effect: NoSchedule}]
reservedMemory: [{numaNode: 0, limits: {memory: 1Gi}}]
crashLoopBackOff: {maxContainerRestartPeriod: 1m0s}
userNamespaces: {idsPerPod: 65536}
memorySwap: {swapBehavior: LimitedSwap}
podPidsLimit: -1
memoryThrottlingFactor: 0.9
tracing: {endpoint: localhost:4317, samplingRatePerMillion: 100}
`;
    expect(checkKubeadmConfig(yamlText)).toEqual([]);
  });

  it('treats null values and empty documents as absent, like the Go decoder', () => {
    expect(checkKubeadmConfig(`---\n${JOIN}---\n`)).toEqual([]);
    expect(checkKubeadmConfig(initWith('  dnsDomain: cluster.local\n', '  dnsDomain:\n'))).toEqual([]);
  });
});

describe('checkKubeadmConfig: mistakes it reports, with the path', () => {
  it('reports a misspelt field deep in ClusterConfiguration', () => {
    const problems = checkKubeadmConfig(initWith('  podSubnet: 10.244.0.0/16', '  podSubnett: 10.244.0.0/16'));
    expect(problems).toEqual([
      'ClusterConfiguration.networking.podSubnett: unknown field (did you mean "podSubnet"?)',
    ]);
  });

  it('reports misspelt fields at the top level and in InitConfiguration and KubeletConfiguration', () => {
    const problems = checkKubeadmConfig(
      initWith('controlPlaneEndpoint:', 'controlPlaneEndPoint:')
        .replace('nodeRegistration:', 'nodeRegistation:')
        .replace('cgroupDriver:', 'cgroupDriverr:'),
    );
    expect(problems).toEqual([
      'InitConfiguration.nodeRegistation: unknown field (did you mean "nodeRegistration"?)',
      'ClusterConfiguration.controlPlaneEndPoint: unknown field (did you mean "controlPlaneEndpoint"?)',
      'KubeletConfiguration.cgroupDriverr: unknown field (did you mean "cgroupDriver"?)',
    ]);
  });

  it('reports a misspelt key inside a list item', () => {
    const problems = checkKubeadmConfig(initWith('    - name: node-ip\n', '    - nam: node-ip\n'));
    expect(problems).toContain('InitConfiguration.nodeRegistration.kubeletExtraArgs[0].nam: unknown field (did you mean "name"?)');
    expect(problems).toContain('InitConfiguration.nodeRegistration.kubeletExtraArgs[0].name: required field is missing');
  });

  it('reports v1beta3-style map kubeletExtraArgs and extraArgs', () => {
    const problems = checkKubeadmConfig(
      initWith('  kubeletExtraArgs:\n    - name: node-ip\n      value: 10.0.0.210\n', '  kubeletExtraArgs:\n    node-ip: 10.0.0.210\n').replace(
        '  extraArgs:\n    - name: advertise-address\n      value: 10.0.0.210\n',
        '  extraArgs:\n    advertise-address: 10.0.0.210\n',
      ),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^InitConfiguration\.nodeRegistration\.kubeletExtraArgs: expected a list of \{name, value\}.*got a mapping$/);
    expect(problems[1]).toMatch(/^ClusterConfiguration\.apiServer\.extraArgs: expected a list of \{name, value\}.*got a mapping$/);
  });

  it('reports an unknown kind', () => {
    const problems = checkKubeadmConfig(`${JOIN}---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: MasterConfiguration\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^document 2: unknown kind "MasterConfiguration"/);
  });

  it('reports a wrong apiVersion (v1beta3) for a known kind', () => {
    const problems = checkKubeadmConfig(JOIN.replace('kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta3'));
    expect(problems).toEqual(['JoinConfiguration.apiVersion: expected "kubeadm.k8s.io/v1beta4", got string "kubeadm.k8s.io/v1beta3"']);
  });

  it('reports a kubelet config with the kubeadm apiVersion', () => {
    const problems = checkKubeadmConfig(
      initWith('apiVersion: kubelet.config.k8s.io/v1beta1', 'apiVersion: kubeadm.k8s.io/v1beta4'),
    );
    expect(problems).toEqual(['KubeletConfiguration.apiVersion: expected "kubelet.config.k8s.io/v1beta1", got string "kubeadm.k8s.io/v1beta4"']);
  });

  it('reports wrong scalar types', () => {
    const problems = checkKubeadmConfig(
      initWith('  bindPort: 6443', '  bindPort: "6443"')
        .replace('maxPods: 110', 'maxPods: lots')
        .replace('failSwapOn: false', 'failSwapOn: "false"')
        .replace('shutdownGracePeriod: 30s', 'shutdownGracePeriod: 30')
        .replace('      value: 0.0.0.0\n', '      value: 5\n'),
    );
    expect(problems).toEqual([
      'InitConfiguration.localAPIEndpoint.bindPort: expected an integer (int32), got string "6443"',
      'ClusterConfiguration.controllerManager.extraArgs[0].value: expected a string, got number 5',
      'KubeletConfiguration.maxPods: expected an integer (int32), got string "lots"',
      'KubeletConfiguration.failSwapOn: expected a boolean (true/false), got string "false"',
      'KubeletConfiguration.shutdownGracePeriod: expected a duration string such as "4m0s" or "30s", got number 30',
    ]);
  });

  it('reports values outside an enum or format', () => {
    const problems = checkKubeadmConfig(
      initWith('cgroupDriver: systemd', 'cgroupDriver: system-d')
        .replace('token: abcdef.0123456789abcdef', 'token: not-a-token')
        .replace('effect: NoSchedule', 'effect: NoSchedul'),
    );
    expect(problems).toEqual([
      'InitConfiguration.bootstrapTokens[0].token: expected a bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}", got string "not-a-token"',
      'InitConfiguration.nodeRegistration.taints[0].effect: expected one of "NoSchedule", "PreferNoSchedule", "NoExecute", got string "NoSchedul"',
      'KubeletConfiguration.cgroupDriver: expected one of "cgroupfs", "systemd", got string "system-d"',
    ]);
  });

  it('reports a field that moved in v1beta4 (discovery.timeout is now timeouts.discovery)', () => {
    const problems = checkKubeadmConfig(JOIN.replace('  tlsBootstrapToken:', '  timeout: 5m0s\n  tlsBootstrapToken:'));
    expect(problems).toEqual(['JoinConfiguration.discovery.timeout: unknown field']);
  });

  it('reports a join without discovery and an etcd that is both local and external', () => {
    const noDiscovery = checkKubeadmConfig(
      JOIN.replace(/discovery:\n(  .*\n)+/, 'discovery:\n  tlsBootstrapToken: abcdef.0123456789abcdef\n'),
    );
    expect(noDiscovery).toEqual(['JoinConfiguration.discovery: bootstrapToken or file must be set']);
    const missing = checkKubeadmConfig(JOIN.replace(/discovery:\n(  .*\n)+/, ''));
    expect(missing).toEqual(['JoinConfiguration.discovery: required field is missing']);
    const bothEtcd = checkKubeadmConfig(
      initWith('etcd:\n  local:\n', 'etcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n  local:\n'),
    );
    expect(bothEtcd).toEqual(['ClusterConfiguration.etcd: local and external are mutually exclusive']);
  });

  it('reports a kind given twice, a document without kind, and YAML that does not parse', () => {
    expect(checkKubeadmConfig(`${JOIN}---\n${JOIN}`)).toEqual([
      'document 2: JoinConfiguration is specified twice (first in document 1)',
    ]);
    expect(checkKubeadmConfig('apiVersion: kubeadm.k8s.io/v1beta4\nnetworking: {}\n')[0]).toMatch(/^document 1: missing kind/);
    expect(checkKubeadmConfig('kind: [unclosed\n')[0]).toMatch(/^YAML does not parse: /);
  });

  it('does not accept fields that only exist in a newer Kubernetes than v1.34', () => {
    const problems = checkKubeadmConfig(
      initWith('etcd:\n  local:\n    dataDir: /var/lib/etcd\n', 'etcd:\n  external:\n    endpoints: [https://10.0.0.5:2379]\n    httpEndpoints: [http://10.0.0.5:2381]\n  local:\n    dataDir: /var/lib/etcd\n'),
    );
    expect(problems).toContain('ClusterConfiguration.etcd.external.httpEndpoints: unknown field');
  });
});
