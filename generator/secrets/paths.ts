/** Where the lab's secrets live, relative to the lab folder. Plans may name these paths; only the secrets store reads them. */
export const LABGEN_DIR = '.labgen';
export const SECRETS_DIR = '.labgen/secrets';
export const KNOWN_HOSTS = '.labgen/known_hosts';
export const SECRET = {
  sshKey: 'id_ed25519',
  sshPublicKey: 'id_ed25519.pub',
  kubeadmToken: 'kubeadm-token',
  adminKubeconfig: 'admin.kubeconfig',
  mungeKey: 'munge.key',
  /** k8s/: the lab registry's (and ChartMuseum's) password, and its htpasswd line (bcrypt) */
  registryPassword: 'registry-password',
  registryHtpasswd: 'registry-htpasswd',
  grafanaAdminPassword: 'grafana-admin-password',
  /** image pull secret for the lab registry: derived from registry-password by k8s/apply.sh */
  registryDockerConfig: 'registry-dockerconfig.json',
} as const;

/**
 * A Pi's own SSH host key (ed25519), made once by labgen so the image can bake it in and its
 * public half is pinned in KNOWN_HOSTS before the Pi first boots. Relative to SECRETS_DIR.
 */
export const hostKeySecret = (node: string) => `hostkeys/${node}/ssh_host_ed25519_key`;
