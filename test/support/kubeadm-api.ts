/**
 * Offline checker for the kubeadm configuration files labgen generates.
 *
 * Why this exists: kubeadm cannot be installed on the machines this project is developed and
 * tested on, so `kubeadm config validate` is not available. Instead the tests check every
 * generated kubeadm config against strict schemas that mirror the JSON field names and JSON
 * types of the real API types. An unknown (e.g. misspelt) field is at best a warning from
 * kubeadm's strict decoding and is otherwise silently dropped, so a typo such as
 * `controlPlaneEndPoint` would produce a cluster that ignores the setting; a wrong JSON type
 * (e.g. v1beta3's `kubeletExtraArgs: {node-ip: ...}` map where v1beta4 wants a list of
 * `{name, value}`) makes kubeadm fail to decode the file.
 *
 * Target: Kubernetes v1.34 (kubeadm.k8s.io/v1beta4, kubelet.config.k8s.io/v1beta1,
 * kubeproxy.config.k8s.io/v1alpha1). Field names were taken from upstream, not from memory:
 *
 *  - kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go
 *    @ 1329935739c3aa007d23cb9a4dadfee9d59ff79b (a v1.31 development state of the v1beta4 API:
 *    Timeouts, Proxy, EnvVar/extraEnvs, encryptionAlgorithm, certificateValidityPeriod,
 *    caCertificateValidityPeriod, imagePullSerial, ResetConfiguration.unmountFlags,
 *    UpgradeConfiguration), cross-checked against zz_generated.conversion.go
 *    @ 0ea83df1135d2477e564f66f5a78d82a7b8633df and zz_generated.model_name.go
 *    @ 121460defea7874f50c64bb8de51018a86c6eef3 (list of v1beta4 types).
 *  - What changed after that commit: PR kubernetes/kubernetes#124442 (v1.31) added
 *    imagePullPolicy/imagePullSerial to UpgradeConfiguration.apply and .node; the changelog at
 *    the top of https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/ says
 *    v1.33 added UpgradeConfiguration.plan.etcdUpgrade, v1.34 added "ECDSA-P384" to
 *    encryptionAlgorithm and v1.35 added etcd.external.httpEndpoints (NOT accepted here: it
 *    does not exist in v1.34). Every type's field list was then compared with the generated
 *    v1.35 reference page (kubernetes/website, uk translation of kubeadm-config.v1beta4.md).
 *  - kubernetes/kubernetes cmd/kubeadm/app/apis/bootstraptoken/v1/types.go
 *    @ 2d350a359e7b251ffa047415af6bf64350f41888 (BootstrapToken, token format).
 *  - kubernetes/kubernetes staging/src/k8s.io/kubelet/config/v1beta1/types.go
 *    @ 8383bd62ee26c68c4eac4b49431d3403d0880a26 (JSON tags and Go types, e.g. resolvConf is
 *    the JSON name of ResolverConfig) plus, for fields added since that commit, the v1.34
 *    generated reference (kubernetes/website zh-cn kubelet-config.v1beta1.md, which links the
 *    v1.34 API and lists podLogsDir, imageMaximumGCAge, singleProcessOOMKill,
 *    imagePullCredentialsVerificationPolicy, preloadedImagesVerificationAllowlist,
 *    maxParallelImagePulls, mergeDefaultEvictionSettings, containerLogMaxWorkers,
 *    containerLogMonitorInterval, enableSystemLogQuery, crashLoopBackOff,
 *    containerRuntimeEndpoint, imageServiceEndpoint, failCgroupV1, userNamespaces), the
 *    v1.35 uk translation of the same page and pkg/kubelet/apis/config/types.go (internal).
 *  - kubernetes/kubernetes staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go
 *    @ ce3490900116b936d61ee08888436fda1f7abe49 and
 *    staging/src/k8s.io/component-base/config/v1alpha1/types.go (ClientConnectionConfiguration),
 *    component-base logs/api/v1 (LoggingConfiguration, VModuleItem{filePattern, verbosity}).
 *  - k8s.io/api core/v1 Taint {key, value, effect, timeAdded} and EnvVar {name, value,
 *    valueFrom{fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, fileKeyRef}}
 *    (fileKeyRef: KEP-3721, PR #132626, alpha in v1.34).
 *
 * Deliberate limits: this checks field names and JSON types (plus a handful of enums and
 * formats the Go decoders or kubeadm's validation enforce, and three kubeadm validation rules
 * noted below). It is not kubeadm's full validation. The YAML is read with the YAML 1.2 core
 * schema; Go's YAML decoder is YAML 1.1, so `yes`/`no`/`on`/`off` are booleans to kubeadm but
 * strings here, and `<<` merge keys are not supported (they show up as an unknown field).
 */
import yaml from 'js-yaml';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// scalar building blocks (JSON types as the Go decoders see them)
// ---------------------------------------------------------------------------------------------

/** every Go struct field is optional in JSON, and JSON null leaves it at its zero value */
const opt = (s: z.ZodType) => s.nullable().optional();

const str = () => z.string({ error: 'expected a string' });
const bool = () => z.boolean({ error: 'expected a boolean (true/false)' });
const intRange = (what: string, min: number, max: number) =>
  z
    .number({ error: `expected an integer (${what})` })
    .int({ error: `expected an integer (${what})` })
    .min(min, { error: `expected an integer (${what}) >= ${min}` })
    .max(max, { error: `expected an integer (${what}) <= ${max}` });
const int32 = () => intRange('int32', -2147483648, 2147483647);
const uint32 = () => intRange('uint32', 0, 4294967295);
/** int64 limited to what a JS number holds exactly */
const int64 = () => intRange('int64', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
const float = () => z.number({ error: 'expected a number' });
const strList = () => z.array(str(), { error: 'expected a list of strings' });
const strMap = () => z.record(str(), str(), { error: 'expected a mapping of string to string' });
const boolMap = () => z.record(str(), bool(), { error: 'expected a mapping of string to boolean' });

/** metav1.Duration: a JSON string parsed by Go's time.ParseDuration (a bare number is rejected) */
const DURATION_RE = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
const duration = () =>
  z
    .string({ error: 'expected a duration string such as "4m0s" or "30s"' })
    .regex(DURATION_RE, { error: 'expected a duration string such as "4m0s" or "30s"' });

/** metav1.Time: an RFC 3339 timestamp string */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const time = () =>
  z
    .string({ error: 'expected an RFC 3339 timestamp string' })
    .regex(RFC3339_RE, { error: 'expected an RFC 3339 timestamp string' });

/** resource.Quantity: a string ("100Mi") or a number */
const quantity = () =>
  z.union([z.string(), z.number()], { error: 'expected a quantity (string such as "100Mi", or a number)' });

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });

/** a Go struct: a strict object whose fields are all optional and nullable unless listed in `required` */
function struct(fields: Record<string, z.ZodType>, required: Record<string, z.ZodType> = {}) {
  const shape: Record<string, z.ZodType> = { ...required };
  for (const [name, schema] of Object.entries(fields)) shape[name] = opt(schema);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'invalid_type' ? 'expected a mapping' : undefined),
  });
}
const listOf = (item: z.ZodType, what: string) =>
  z.array(item, { error: (iss) => (iss.code === 'invalid_type' ? `expected a list of ${what}` : undefined) });

/** TypeMeta, inlined in every top-level kind */
const typeMeta = { apiVersion: str(), kind: str() };

// ---------------------------------------------------------------------------------------------
// shared k8s.io/api core/v1 types
// ---------------------------------------------------------------------------------------------

const Taint = struct(
  { value: str(), timeAdded: time() },
  { key: str(), effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const) },
);

const EnvVarSource = struct({
  fieldRef: struct({ apiVersion: str(), fieldPath: str() }),
  resourceFieldRef: struct({ containerName: str(), resource: str(), divisor: quantity() }),
  configMapKeyRef: struct({ name: str(), key: str(), optional: bool() }),
  secretKeyRef: struct({ name: str(), key: str(), optional: bool() }),
  fileKeyRef: struct({ volumeName: str(), path: str(), key: str(), optional: bool() }),
});

// ---------------------------------------------------------------------------------------------
// kubeadm.k8s.io/v1beta4
// ---------------------------------------------------------------------------------------------

/** v1beta4 Arg; kubeadm's ValidateExtraArgs rejects an argument without a name */
const Arg = struct({ value: str() }, { name: str().min(1, { error: 'argument has no name' }) });
const ArgList = z.array(Arg, {
  error: (iss) =>
    iss.code === 'invalid_type'
      ? 'expected a list of {name, value} (v1beta4 replaced the v1beta3 map of extra args with a list)'
      : undefined,
});

/** v1beta4 EnvVar inlines core/v1 EnvVar */
const EnvVar = struct({ value: str(), valueFrom: EnvVarSource }, { name: str() });

const HostPathMount = struct(
  {
    readOnly: bool(),
    pathType: oneOf(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] as const),
  },
  { name: str(), hostPath: str(), mountPath: str() },
);

const controlPlaneComponent = {
  extraArgs: ArgList,
  extraVolumes: listOf(HostPathMount, '{name, hostPath, mountPath, readOnly, pathType}'),
  extraEnvs: listOf(EnvVar, '{name, value}'),
};
const ControlPlaneComponent = struct(controlPlaneComponent);
const APIServer = struct({ ...controlPlaneComponent, certSANs: strList() });

const imageMeta = { imageRepository: str(), imageTag: str() };
const DNS = struct({ ...imageMeta, disabled: bool() });
const Proxy = struct({ disabled: bool() });

const APIEndpoint = struct({ advertiseAddress: str(), bindPort: int32() });

const PULL_POLICY = ['Always', 'IfNotPresent', 'Never'] as const;
const NodeRegistrationOptions = struct({
  name: str(),
  criSocket: str(),
  taints: listOf(Taint, '{key, value, effect}'),
  kubeletExtraArgs: ArgList,
  ignorePreflightErrors: strList(),
  imagePullPolicy: oneOf(PULL_POLICY),
  imagePullSerial: bool(),
});

const Networking = struct({ serviceSubnet: str(), podSubnet: str(), dnsDomain: str() });

const LocalEtcd = struct({
  ...imageMeta,
  dataDir: str(),
  extraArgs: ArgList,
  extraEnvs: listOf(EnvVar, '{name, value}'),
  serverCertSANs: strList(),
  peerCertSANs: strList(),
});
const ExternalEtcd = struct({ endpoints: strList(), caFile: str(), certFile: str(), keyFile: str() });
/** kubeadm's ValidateEtcd: local and external are mutually exclusive */
const Etcd = struct({ local: LocalEtcd, external: ExternalEtcd }).superRefine((etcd, ctx) => {
  if (etcd.local != null && etcd.external != null) {
    ctx.addIssue({ code: 'custom', message: 'local and external are mutually exclusive' });
  }
});

const Patches = struct({ directory: str() });

const Timeouts = struct({
  controlPlaneComponentHealthCheck: duration(),
  kubeletHealthCheck: duration(),
  kubernetesAPICall: duration(),
  etcdAPICall: duration(),
  tlsBootstrap: duration(),
  discovery: duration(),
  upgradeManifests: duration(),
});

/** bootstraptoken/v1 BootstrapToken; BootstrapTokenString's UnmarshalJSON enforces the format */
const BootstrapToken = struct({
  token: z
    .string({ error: 'expected a bootstrap token string "[a-z0-9]{6}.[a-z0-9]{16}"' })
    .regex(/^[a-z0-9]{6}\.[a-z0-9]{16}$/, { error: 'expected a bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}"' }),
  description: str(),
  ttl: duration(),
  expires: time(),
  usages: strList(),
  groups: strList(),
});

const InitConfiguration = struct({
  ...typeMeta,
  bootstrapTokens: listOf(BootstrapToken, 'bootstrap tokens'),
  dryRun: bool(),
  nodeRegistration: NodeRegistrationOptions,
  localAPIEndpoint: APIEndpoint,
  certificateKey: str(),
  skipPhases: strList(),
  patches: Patches,
  timeouts: Timeouts,
});

const ClusterConfiguration = struct({
  ...typeMeta,
  etcd: Etcd,
  networking: Networking,
  kubernetesVersion: str(),
  controlPlaneEndpoint: str(),
  apiServer: APIServer,
  controllerManager: ControlPlaneComponent,
  scheduler: ControlPlaneComponent,
  dns: DNS,
  proxy: Proxy,
  certificatesDir: str(),
  imageRepository: str(),
  featureGates: boolMap(),
  clusterName: str(),
  encryptionAlgorithm: oneOf(['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384'] as const),
  certificateValidityPeriod: duration(),
  caCertificateValidityPeriod: duration(),
});

const BootstrapTokenDiscovery = struct(
  { apiServerEndpoint: str(), caCertHashes: strList(), unsafeSkipCAVerification: bool() },
  { token: str() },
);
const FileDiscovery = struct({}, { kubeConfigPath: str() });
/** kubeadm's ValidateDiscovery: exactly one of bootstrapToken and file */
const Discovery = struct({
  bootstrapToken: BootstrapTokenDiscovery,
  file: FileDiscovery,
  tlsBootstrapToken: str(),
}).superRefine((d, ctx) => {
  if (d.bootstrapToken == null && d.file == null) {
    ctx.addIssue({ code: 'custom', message: 'bootstrapToken or file must be set' });
  } else if (d.bootstrapToken != null && d.file != null) {
    ctx.addIssue({ code: 'custom', message: 'bootstrapToken and file cannot both be set' });
  }
});

const JoinControlPlane = struct({ localAPIEndpoint: APIEndpoint, certificateKey: str() });

const JoinConfiguration = struct(
  {
    ...typeMeta,
    dryRun: bool(),
    nodeRegistration: NodeRegistrationOptions,
    caCertPath: str(),
    controlPlane: JoinControlPlane,
    skipPhases: strList(),
    patches: Patches,
    timeouts: Timeouts,
  },
  { discovery: Discovery },
);

const ResetConfiguration = struct({
  ...typeMeta,
  cleanupTmpDir: bool(),
  certificatesDir: str(),
  criSocket: str(),
  dryRun: bool(),
  force: bool(),
  ignorePreflightErrors: strList(),
  skipPhases: strList(),
  unmountFlags: strList(),
  timeouts: Timeouts,
});

const UpgradeConfiguration = struct({
  ...typeMeta,
  apply: struct({
    kubernetesVersion: str(),
    allowExperimentalUpgrades: bool(),
    allowRCUpgrades: bool(),
    certificateRenewal: bool(),
    dryRun: bool(),
    etcdUpgrade: bool(),
    forceUpgrade: bool(),
    ignorePreflightErrors: strList(),
    patches: Patches,
    printConfig: bool(),
    // the v1.31-dev types.go read declares this without a json tag (JSON name "SkipPhases");
    // the generated v1.35 reference lists it as `skipPhases`, which is what is accepted here
    skipPhases: strList(),
    imagePullPolicy: oneOf(PULL_POLICY), // PR #124442 (v1.31)
    imagePullSerial: bool(), // PR #124442 (v1.31)
  }),
  diff: struct({ kubernetesVersion: str(), contextLines: int64() }),
  node: struct({
    certificateRenewal: bool(),
    dryRun: bool(),
    etcdUpgrade: bool(),
    ignorePreflightErrors: strList(),
    skipPhases: strList(),
    patches: Patches,
    imagePullPolicy: oneOf(PULL_POLICY), // PR #124442 (v1.31)
    imagePullSerial: bool(), // PR #124442 (v1.31)
  }),
  plan: struct({
    kubernetesVersion: str(),
    allowExperimentalUpgrades: bool(),
    allowRCUpgrades: bool(),
    dryRun: bool(),
    ignorePreflightErrors: strList(),
    printConfig: bool(),
    etcdUpgrade: bool(), // added in v1.33
  }),
  timeouts: Timeouts,
});

// ---------------------------------------------------------------------------------------------
// component-base logs/api/v1 and tracing/api/v1 (used by the kubelet and kube-proxy configs)
// ---------------------------------------------------------------------------------------------

const outputRouting = { splitStream: bool(), infoBufferSize: quantity() };
const LoggingConfiguration = struct({
  format: str(),
  // TimeOrMetaDuration: a duration string, or an integer number of nanoseconds
  flushFrequency: z.union([duration(), int64()], {
    error: 'expected a duration string such as "5s" or an integer number of nanoseconds',
  }),
  verbosity: uint32(),
  vmodule: listOf(struct({ filePattern: str(), verbosity: uint32() }), '{filePattern, verbosity}'),
  options: struct({ text: struct(outputRouting), json: struct(outputRouting) }),
});
const TracingConfiguration = struct({ endpoint: str(), samplingRatePerMillion: int32() });

// ---------------------------------------------------------------------------------------------
// kubelet.config.k8s.io/v1beta1 KubeletConfiguration (every top-level field of v1.34)
// ---------------------------------------------------------------------------------------------

const KubeletConfiguration = struct({
  ...typeMeta,
  enableServer: bool(),
  staticPodPath: str(),
  podLogsDir: str(),
  syncFrequency: duration(),
  fileCheckFrequency: duration(),
  httpCheckFrequency: duration(),
  staticPodURL: str(),
  staticPodURLHeader: z.record(str(), strList(), { error: 'expected a mapping of header name to a list of strings' }),
  address: str(),
  port: int32(),
  readOnlyPort: int32(),
  tlsCertFile: str(),
  tlsPrivateKeyFile: str(),
  tlsCipherSuites: strList(),
  tlsMinVersion: str(),
  rotateCertificates: bool(),
  serverTLSBootstrap: bool(),
  authentication: struct({
    x509: struct({ clientCAFile: str() }),
    webhook: struct({ enabled: bool(), cacheTTL: duration() }),
    anonymous: struct({ enabled: bool() }),
  }),
  authorization: struct({
    mode: oneOf(['AlwaysAllow', 'Webhook'] as const),
    webhook: struct({ cacheAuthorizedTTL: duration(), cacheUnauthorizedTTL: duration() }),
  }),
  registryPullQPS: int32(),
  registryBurst: int32(),
  imagePullCredentialsVerificationPolicy: oneOf(
    ['NeverVerify', 'NeverVerifyPreloadedImages', 'NeverVerifyAllowlistedImages', 'AlwaysVerify'] as const,
  ),
  preloadedImagesVerificationAllowlist: strList(),
  eventRecordQPS: int32(),
  eventBurst: int32(),
  enableDebuggingHandlers: bool(),
  enableContentionProfiling: bool(),
  healthzPort: int32(),
  healthzBindAddress: str(),
  oomScoreAdj: int32(),
  clusterDomain: str(),
  clusterDNS: strList(),
  streamingConnectionIdleTimeout: duration(),
  nodeStatusUpdateFrequency: duration(),
  nodeStatusReportFrequency: duration(),
  nodeLeaseDurationSeconds: int32(),
  imageMinimumGCAge: duration(),
  imageMaximumGCAge: duration(),
  imageGCHighThresholdPercent: int32(),
  imageGCLowThresholdPercent: int32(),
  volumeStatsAggPeriod: duration(),
  kubeletCgroups: str(),
  systemCgroups: str(),
  cgroupRoot: str(),
  cgroupsPerQOS: bool(),
  // a plain string in Go; the kubelet only knows these two drivers
  cgroupDriver: oneOf(['cgroupfs', 'systemd'] as const),
  cpuManagerPolicy: str(),
  singleProcessOOMKill: bool(),
  cpuManagerPolicyOptions: strMap(),
  cpuManagerReconcilePeriod: duration(),
  memoryManagerPolicy: str(),
  topologyManagerPolicy: str(),
  topologyManagerScope: str(),
  topologyManagerPolicyOptions: strMap(),
  qosReserved: strMap(),
  runtimeRequestTimeout: duration(),
  hairpinMode: str(),
  maxPods: int32(),
  podCIDR: str(),
  podPidsLimit: int64(),
  resolvConf: str(),
  runOnce: bool(),
  cpuCFSQuota: bool(),
  cpuCFSQuotaPeriod: duration(),
  nodeStatusMaxImages: int32(),
  maxOpenFiles: int64(),
  contentType: str(),
  kubeAPIQPS: int32(),
  kubeAPIBurst: int32(),
  serializeImagePulls: bool(),
  maxParallelImagePulls: int32(),
  evictionHard: strMap(),
  evictionSoft: strMap(),
  evictionSoftGracePeriod: strMap(),
  evictionPressureTransitionPeriod: duration(),
  evictionMaxPodGracePeriod: int32(),
  evictionMinimumReclaim: strMap(),
  mergeDefaultEvictionSettings: bool(),
  podsPerCore: int32(),
  enableControllerAttachDetach: bool(),
  protectKernelDefaults: bool(),
  makeIPTablesUtilChains: bool(),
  iptablesMasqueradeBit: int32(),
  iptablesDropBit: int32(),
  featureGates: boolMap(),
  failSwapOn: bool(),
  memorySwap: struct({ swapBehavior: str() }),
  containerLogMaxSize: str(),
  containerLogMaxFiles: int32(),
  containerLogMaxWorkers: int32(),
  containerLogMonitorInterval: duration(),
  configMapAndSecretChangeDetectionStrategy: oneOf(['Get', 'Cache', 'Watch'] as const),
  systemReserved: strMap(),
  kubeReserved: strMap(),
  reservedSystemCPUs: str(),
  showHiddenMetricsForVersion: str(),
  systemReservedCgroup: str(),
  kubeReservedCgroup: str(),
  enforceNodeAllocatable: strList(),
  allowedUnsafeSysctls: strList(),
  volumePluginDir: str(),
  providerID: str(),
  kernelMemcgNotification: bool(),
  logging: LoggingConfiguration,
  enableSystemLogHandler: bool(),
  enableSystemLogQuery: bool(),
  shutdownGracePeriod: duration(),
  shutdownGracePeriodCriticalPods: duration(),
  shutdownGracePeriodByPodPriority: listOf(
    struct({ priority: int32(), shutdownGracePeriodSeconds: int64() }),
    '{priority, shutdownGracePeriodSeconds}',
  ),
  crashLoopBackOff: struct({ maxContainerRestartPeriod: duration() }),
  reservedMemory: listOf(
    struct({ numaNode: int32(), limits: z.record(str(), quantity(), { error: 'expected a mapping of resource name to quantity' }) }),
    '{numaNode, limits}',
  ),
  enableProfilingHandler: bool(),
  enableDebugFlagsHandler: bool(),
  seccompDefault: bool(),
  memoryThrottlingFactor: float(),
  registerWithTaints: listOf(Taint, '{key, value, effect}'),
  registerNode: bool(),
  tracing: TracingConfiguration,
  localStorageCapacityIsolation: bool(),
  containerRuntimeEndpoint: str(),
  imageServiceEndpoint: str(),
  failCgroupV1: bool(),
  userNamespaces: struct({ idsPerPod: int64() }),
});

// ---------------------------------------------------------------------------------------------
// kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration
// ---------------------------------------------------------------------------------------------

const KubeProxyConfiguration = struct({
  ...typeMeta,
  featureGates: boolMap(),
  clientConnection: struct({
    kubeconfig: str(),
    acceptContentTypes: str(),
    contentType: str(),
    qps: float(),
    burst: int32(),
  }),
  logging: LoggingConfiguration,
  hostnameOverride: str(),
  bindAddress: str(),
  healthzBindAddress: str(),
  metricsBindAddress: str(),
  bindAddressHardFail: bool(),
  enableProfiling: bool(),
  showHiddenMetricsForVersion: str(),
  serviceProxyName: str(),
  mode: str(),
  iptables: struct({
    masqueradeBit: int32(),
    masqueradeAll: bool(),
    localhostNodePorts: bool(),
    syncPeriod: duration(),
    minSyncPeriod: duration(),
  }),
  ipvs: struct({
    syncPeriod: duration(),
    minSyncPeriod: duration(),
    scheduler: str(),
    excludeCIDRs: strList(),
    strictARP: bool(),
    tcpTimeout: duration(),
    tcpFinTimeout: duration(),
    udpTimeout: duration(),
  }),
  nftables: struct({
    masqueradeBit: int32(),
    masqueradeAll: bool(),
    syncPeriod: duration(),
    minSyncPeriod: duration(),
    tableName: str(), // present in the types.go read; possibly newer than v1.34
  }),
  winkernel: struct({
    networkName: str(),
    sourceVip: str(),
    enableDSR: bool(),
    rootHnsEndpointName: str(),
    forwardHealthCheckVip: bool(),
  }),
  detectLocalMode: str(),
  detectLocal: struct({ bridgeInterface: str(), interfaceNamePrefix: str() }),
  clusterCIDR: str(),
  nodePortAddresses: strList(),
  oomScoreAdj: int32(),
  conntrack: struct({
    maxPerCore: int32(),
    min: int32(),
    tcpEstablishedTimeout: duration(),
    tcpCloseWaitTimeout: duration(),
    tcpBeLiberal: bool(),
    udpTimeout: duration(),
    udpStreamTimeout: duration(),
  }),
  configSyncPeriod: duration(),
  portRange: str(),
});

// ---------------------------------------------------------------------------------------------
// the checker
// ---------------------------------------------------------------------------------------------

export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
export const KUBELET_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
export const KUBE_PROXY_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';

const KINDS: Readonly<Record<string, { apiVersion: string; schema: z.ZodType }>> = {
  InitConfiguration: { apiVersion: KUBEADM_API_VERSION, schema: InitConfiguration },
  ClusterConfiguration: { apiVersion: KUBEADM_API_VERSION, schema: ClusterConfiguration },
  JoinConfiguration: { apiVersion: KUBEADM_API_VERSION, schema: JoinConfiguration },
  ResetConfiguration: { apiVersion: KUBEADM_API_VERSION, schema: ResetConfiguration },
  UpgradeConfiguration: { apiVersion: KUBEADM_API_VERSION, schema: UpgradeConfiguration },
  KubeletConfiguration: { apiVersion: KUBELET_API_VERSION, schema: KubeletConfiguration },
  KubeProxyConfiguration: { apiVersion: KUBE_PROXY_API_VERSION, schema: KubeProxyConfiguration },
};

/** the kinds a kubeadm config file may contain, with the apiVersion each must have */
export const KNOWN_KINDS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(KINDS).map(([kind, { apiVersion }]) => [kind, apiVersion]),
);

/**
 * Checks a (multi-document) kubeadm config file. Returns a list of problems, each naming where
 * it is (`ClusterConfiguration.networking.podSubnett: unknown field`); empty when valid.
 */
export function checkKubeadmConfig(yamlText: string): string[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(yamlText, null, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    return [`YAML does not parse: ${err instanceof Error ? err.message : String(err)}`];
  }

  const problems: string[] = [];
  const seen = new Map<string, number>();
  let docNo = 0;
  for (const doc of docs) {
    docNo += 1;
    if (doc === null || doc === undefined) continue; // empty document, e.g. a trailing ---
    const where = `document ${docNo}`;
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push(`${where}: expected a mapping with apiVersion and kind, got ${describe(doc)}`);
      continue;
    }
    const { apiVersion, kind } = doc as Record<string, unknown>;
    if (typeof kind !== 'string' || kind === '') {
      problems.push(`${where}: missing kind (expected one of ${Object.keys(KINDS).join(', ')})`);
      continue;
    }
    const known = KINDS[kind];
    if (!known) {
      problems.push(
        `${where}: unknown kind ${JSON.stringify(kind)} (apiVersion ${JSON.stringify(apiVersion)}); ` +
          `expected one of ${Object.keys(KINDS).join(', ')}`,
      );
      continue;
    }
    if (apiVersion !== known.apiVersion) {
      problems.push(
        `${kind}.apiVersion: expected ${JSON.stringify(known.apiVersion)}, got ${describe(apiVersion)}`,
      );
      continue; // the fields of another version differ: checking them against this one is noise
    }
    const firstDoc = seen.get(kind);
    if (firstDoc !== undefined) {
      problems.push(`${where}: ${kind} is specified twice (first in document ${firstDoc})`);
    } else {
      seen.set(kind, docNo);
    }

    const result = known.schema.safeParse(doc);
    if (result.success) continue;
    for (const issue of result.error.issues) {
      const at = formatPath(kind, issue.path);
      if (issue.code === 'unrecognized_keys') {
        const knownKeys = keysAt(known.schema, issue.path);
        for (const key of issue.keys) {
          const guess = knownKeys ? closest(key, knownKeys) : undefined;
          problems.push(
            `${formatPath(kind, [...issue.path, key])}: unknown field` +
              (guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''),
          );
        }
      } else if (issue.code === 'custom') {
        problems.push(`${at}: ${issue.message}`);
      } else if (issue.code === 'invalid_type' && valueAt(doc, issue.path) === undefined) {
        problems.push(`${at}: required field is missing`);
      } else {
        problems.push(`${at}: ${issue.message}, got ${describe(valueAt(doc, issue.path))}`);
      }
    }
  }
  return problems;
}

function formatPath(kind: string, path: readonly PropertyKey[]): string {
  let out = kind;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$-]*$/.test(part)) out += `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** the field names of the struct at `path` in `schema`, for "did you mean" hints */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let s: z.ZodType | undefined = schema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    let cur = t;
    while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) cur = cur.unwrap() as z.ZodType;
    return cur;
  };
  for (const part of path) {
    if (!s) return undefined;
    s = unwrap(s);
    if (s instanceof z.ZodObject && typeof part === 'string') s = s.shape[part] as z.ZodType | undefined;
    else if (s instanceof z.ZodArray && typeof part === 'number') s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return undefined;
  }
  if (!s) return undefined;
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

function closest(key: string, candidates: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase) return sameCase;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
