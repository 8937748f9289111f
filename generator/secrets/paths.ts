import { SECRETS_DIR } from '../common/layout.js';

/** The names of the secret files under SECRETS_DIR (common/layout.ts). Plans may name these paths; only the secrets store reads them. */
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
} as const;

/**
 * k8s/<folder>/secrets/: what a kustomization in k8s/ needs of the lab's secrets, written by
 * labgen from .labgen/secrets/ inside the kustomization's root, because kustomize's default
 * load restrictor refuses files outside it (and resolves symbolic links before it checks).
 * The files are 0600, git-ignored by a .gitignore beside them, left out of `labgen export`
 * without --with-secrets and never shown in a diff.
 */
export const K8S_SECRETS_DIR = 'secrets';
/** A secret file in one of those k8s/<folder>/secrets/ folders (their .gitignore is not secret). */
export const K8S_SECRET_PATH = new RegExp(`^k8s/[^/]+/${K8S_SECRETS_DIR}/(?!\\.gitignore$)`);
/** A path whose contents are secret: .labgen/secrets/ or k8s/<folder>/secrets/. */
export const isSecretPath = (path: string) => path.startsWith(`${SECRETS_DIR}/`) || K8S_SECRET_PATH.test(path);

/**
 * A Pi's own SSH host key (ed25519), made once by labgen so the image can bake it in and its
 * public half is pinned in KNOWN_HOSTS before the Pi first boots. Relative to SECRETS_DIR.
 */
export const hostKeySecret = (node: string) => `hostkeys/${node}/ssh_host_ed25519_key`;
