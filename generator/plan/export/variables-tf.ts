import type { Lab } from '../../model/defaults.js';
import { exportNote } from './context.js';
import { attr, blank, block, comment, expr, hcl, type HclItem } from '../support/hcl.js';

/**
 * The Terraform export's variables.tf: what the lab.yaml does not say about an OpenStack cloud
 * (credentials, the external network, image, flavors), each with what it is for. Credentials are
 * variables with no value, never written anywhere: left null, the provider reads OS_* from the
 * environment or a clouds.yaml entry (os_cloud), as the openstack CLI does.
 */

interface Variable {
  name: string;
  type: string;
  description: string;
  /** undefined: required (terraform asks, or -var / TF_VAR_ / a .tfvars file gives it) */
  default?: null | number | string;
  sensitive?: boolean;
}

/** Credentials and where they are used: each a provider argument of the same meaning. */
export const CREDENTIALS: { name: string; argument: string; description: string; sensitive?: boolean }[] = [
  { name: 'os_cloud', argument: 'cloud', description: 'an entry of clouds.yaml (OS_CLOUD); null: the OS_* environment variables' },
  { name: 'os_auth_url', argument: 'auth_url', description: "the cloud's Identity (Keystone) URL (OS_AUTH_URL)" },
  { name: 'os_region', argument: 'region', description: 'the region (OS_REGION_NAME)' },
  { name: 'os_user_name', argument: 'user_name', description: 'the user (OS_USERNAME)' },
  { name: 'os_password', argument: 'password', description: "the user's password (OS_PASSWORD); never put it in a file you share", sensitive: true },
  { name: 'os_project_name', argument: 'tenant_name', description: 'the project (OS_PROJECT_NAME)' },
  { name: 'os_user_domain_name', argument: 'user_domain_name', description: "the user's domain (OS_USER_DOMAIN_NAME)" },
  { name: 'os_project_domain_name', argument: 'project_domain_name', description: "the project's domain (OS_PROJECT_DOMAIN_NAME)" },
];

/** The cloud's side of the lab: names of the cloud's own things, and sizes. */
export const CLOUD = {
  externalNetwork: 'external_network_id',
  floatingIpPool: 'floating_ip_pool',
  image: 'image_name',
  controlPlaneFlavor: 'control_plane_flavor',
  workerFlavor: 'worker_flavor',
  dataVolumeSize: 'data_volume_size',
  adminCidr: 'admin_cidr',
} as const;

function variables(lab: Lab): Variable[] {
  return [
    ...CREDENTIALS.map((c): Variable => ({ name: c.name, type: 'string', description: c.description, default: null, ...(c.sensitive ? { sensitive: true } : {}) })),
    { name: CLOUD.externalNetwork, type: 'string', description: "ID of the external network the lab's router reaches the internet through" },
    { name: CLOUD.floatingIpPool, type: 'string', description: "name of the external network the control plane's floating IP comes from" },
    { name: CLOUD.image, type: 'string', description: 'the image of every VM (Debian or Ubuntu, as the Vagrant box of lab.yaml)' },
    { name: CLOUD.controlPlaneFlavor, type: 'string', description: `the control plane's flavor (lab.yaml: ${lab.cluster.controlPlane.cpus} CPUs, ${lab.cluster.controlPlane.memory} MiB)` },
    { name: CLOUD.workerFlavor, type: 'string', description: `each worker's flavor (lab.yaml: ${lab.cluster.workers.cpus} CPUs, ${lab.cluster.workers.memory} MiB)` },
    { name: CLOUD.dataVolumeSize, type: 'number', description: 'GB of a data volume attached to each VM; 0: none', default: 0 },
    { name: CLOUD.adminCidr, type: 'string', description: 'the addresses SSH and the Kubernetes API may be reached from (your own, e.g. 203.0.113.7/32)' },
  ];
}

export function planVariablesTf(lab: Lab): string {
  const items: HclItem[] = [comment(exportNote('--terraform')), comment(`The ${lab.name} lab on OpenStack: the values lab.yaml does not hold. Give them in a`), comment('terraform.tfvars of your own, with -var, or as TF_VAR_<name>; credentials from the OS_* environment.')];
  for (const v of variables(lab)) {
    items.push(
      blank,
      block('variable', [v.name], [
        attr('type', expr(v.type)),
        attr('description', v.description),
        ...(v.default !== undefined ? [attr('default', v.default)] : []),
        ...(v.sensitive ? [attr('sensitive', true)] : []),
      ]),
    );
  }
  return hcl(items);
}
