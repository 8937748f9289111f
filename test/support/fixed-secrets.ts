import type { Secrets } from '../../generator/secrets/store.js';

/** Fixed secrets for tests: the plan is a pure function of (lab, secrets). */
export const FIXED_SECRETS: Secrets = {
  sshKey: {
    private: '-----BEGIN OPENSSH PRIVATE KEY-----\nfixed\n-----END OPENSSH PRIVATE KEY-----\n',
    public: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixedFixedFixedFixedFixedFixedFixedFixedFix labgen@test\n',
  },
  kubeadmToken: 'abcdef.0123456789abcdef',
  mungeKey: Buffer.alloc(1024, 7).toString('base64'),
  registryPassword: 'fixedregistrypassword000',
  // bcrypt of 'fixedregistrypassword000' (cost 10), as the secrets store makes it
  registryHtpasswd: 'admin:$2b$10$ZdZlaku9j4xZgIHZjZxbs.itt4lG.u/wbVHsIXQ2Al08kiw5AwcoK\n',
  grafanaAdminPassword: 'fixedgrafanapassword0000',
};
