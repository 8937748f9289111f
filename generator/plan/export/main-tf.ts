import type { Lab } from '../../model/defaults.js';
import { clusterHosts } from '../support/cluster-hosts.js';
import { API_PORT, clusterPorts } from '../support/cluster-ports.js';
import { attr, blank, block, comment, expr, hcl, type HclItem } from '../support/hcl.js';
import { exportNote } from './context.js';
import { CLOUD, CREDENTIALS } from './variables-tf.js';

/**
 * The Terraform export's main.tf: the lab's VMs on OpenStack (seed 004), from the same host list
 * as every other export (clusterHosts): a network and subnet of lab.yaml's subnet with a router
 * out, a port per VM at its lab.yaml address, a security group with the cluster's ports (one
 * table: support/cluster-ports.ts) open inside the subnet and SSH and the API from admin_cidr,
 * the lab's SSH key (its public half), an instance per VM, a data volume per VM when asked, and
 * a floating IP on the control plane. Credentials are variables only (variables-tf.ts).
 */

/** terraform-provider-openstack: its registry source and the major version this is written for. */
export const OPENSTACK_PROVIDER = { source: 'terraform-provider-openstack/openstack', version: '~> 3.0' };

const v = (name: string) => expr(`var.${name}`);
const ref = (type: string, name: string, attribute: string) => expr(`${type}.${name}.${attribute}`);

const NET = 'openstack_networking_network_v2';
const SUBNET = 'openstack_networking_subnet_v2';
const ROUTER = 'openstack_networking_router_v2';
const SECGROUP = 'openstack_networking_secgroup_v2';
const RULE = 'openstack_networking_secgroup_rule_v2';
const PORT = 'openstack_networking_port_v2';
const INSTANCE = 'openstack_compute_instance_v2';
const VOLUME = 'openstack_blockstorage_volume_v3';
const FIP = 'openstack_networking_floatingip_v2';

function header(): HclItem[] {
  return [
    block('terraform', [], [
      attr('required_version', '>= 1.3.0'),
      block('required_providers', [], [attr('openstack', { source: OPENSTACK_PROVIDER.source, version: OPENSTACK_PROVIDER.version })]),
    ]),
    blank,
    comment('Credentials only from variables (null: the provider reads OS_* or clouds.yaml itself).'),
    block('provider', ['openstack'], CREDENTIALS.map((c) => attr(c.argument, v(c.name)))),
  ];
}

function network(lab: Lab): HclItem[] {
  return [
    block('resource', [NET, 'lab'], [attr('name', `${lab.name}-net`), attr('admin_state_up', true)]),
    blank,
    block('resource', [SUBNET, 'lab'], [
      attr('name', `${lab.name}-subnet`),
      attr('network_id', ref(NET, 'lab', 'id')),
      attr('cidr', lab.network.subnet),
      attr('gateway_ip', lab.network.gateway),
      attr('ip_version', 4),
      attr('dns_nameservers', [...lab.network.upstreamDns]),
    ]),
    blank,
    block('resource', [ROUTER, 'lab'], [attr('name', `${lab.name}-router`), attr('external_network_id', v(CLOUD.externalNetwork))]),
    blank,
    block('resource', ['openstack_networking_router_interface_v2', 'lab'], [attr('router_id', ref(ROUTER, 'lab', 'id')), attr('subnet_id', ref(SUBNET, 'lab', 'id'))]),
  ];
}

function rule(name: string, protocol: string, ports: [number, number] | undefined, from: ReturnType<typeof expr>, about: string): HclItem[] {
  return [
    blank,
    comment(about),
    block('resource', [RULE, name], [
      attr('security_group_id', ref(SECGROUP, 'cluster', 'id')),
      attr('direction', 'ingress'),
      attr('ethertype', 'IPv4'),
      attr('protocol', protocol),
      ...(ports ? [attr('port_range_min', ports[0]), attr('port_range_max', ports[1])] : []),
      attr('remote_ip_prefix', from),
    ]),
  ];
}

function securityGroup(lab: Lab): HclItem[] {
  const inside = ref(SUBNET, 'lab', 'cidr');
  return [
    block('resource', [SECGROUP, 'cluster'], [attr('name', `${lab.name}-cluster`), attr('description', `the ${lab.name} lab's Kubernetes hosts`)]),
    ...rule('ssh_admin', 'tcp', [22, 22], v(CLOUD.adminCidr), 'SSH from admin_cidr'),
    ...rule('api_admin', 'tcp', [API_PORT, API_PORT], v(CLOUD.adminCidr), 'the Kubernetes API from admin_cidr (through the floating IP)'),
    ...rule('ssh_inside', 'tcp', [22, 22], inside, 'SSH between the hosts'),
    ...clusterPorts(lab).flatMap((p) => rule(p.name, p.protocol, p.ports, inside, `${p.what}, between the hosts`)),
  ];
}

function vms(lab: Lab, publicKey: string): HclItem[] {
  const hosts = clusterHosts(lab);
  const cp = hosts.find((h) => h.role === 'control-plane')!;
  const each = (a: string) => expr(`each.value.${a}`);
  return [
    block('locals', [], [
      comment('the VMs of lab.yaml: name, address, flavor'),
      attr(
        'vms',
        Object.fromEntries(hosts.map((h) => [h.name, { ip: h.ip, flavor: v(h.role === 'control-plane' ? CLOUD.controlPlaneFlavor : CLOUD.workerFlavor) }])),
      ),
    ]),
    blank,
    block('resource', ['openstack_compute_keypair_v2', 'lab'], [attr('name', `${lab.name}-lab-key`), attr('public_key', publicKey.trim())]),
    blank,
    comment("each VM's port: its lab.yaml address; pods' addresses allowed through (Calico routes them unencapsulated)"),
    block('resource', [PORT, 'vm'], [
      attr('for_each', expr('local.vms')),
      attr('name', expr('"${each.key}-lan"')),
      attr('network_id', ref(NET, 'lab', 'id')),
      attr('security_group_ids', [ref(SECGROUP, 'cluster', 'id')]),
      block('fixed_ip', [], [attr('subnet_id', ref(SUBNET, 'lab', 'id')), attr('ip_address', each('ip'))]),
      block('allowed_address_pairs', [], [attr('ip_address', lab.cluster.podSubnet)]),
    ]),
    blank,
    block('resource', [INSTANCE, 'vm'], [
      attr('for_each', expr('local.vms')),
      attr('name', expr('each.key')),
      attr('image_name', v(CLOUD.image)),
      attr('flavor_name', each('flavor')),
      attr('key_pair', ref('openstack_compute_keypair_v2', 'lab', 'name')),
      block('network', [], [attr('port', expr(`${PORT}.vm[each.key].id`))]),
      attr('depends_on', [expr('openstack_networking_router_interface_v2.lab')]),
    ]),
    blank,
    comment('a data volume per VM, when data_volume_size > 0'),
    block('resource', [VOLUME, 'data'], [
      attr('for_each', expr(`var.${CLOUD.dataVolumeSize} > 0 ? local.vms : {}`)),
      attr('name', expr('"${each.key}-data"')),
      attr('size', v(CLOUD.dataVolumeSize)),
    ]),
    blank,
    block('resource', ['openstack_compute_volume_attach_v2', 'data'], [
      attr('for_each', expr(VOLUME + '.data')),
      attr('instance_id', expr(`${INSTANCE}.vm[each.key].id`)),
      attr('volume_id', expr('each.value.id')),
    ]),
    blank,
    comment(`the control plane (${cp.name}) from outside: point api.${lab.domain} at this address`),
    block('resource', [FIP, 'control_plane'], [attr('pool', v(CLOUD.floatingIpPool))]),
    blank,
    block('resource', ['openstack_networking_floatingip_associate_v2', 'control_plane'], [
      attr('floating_ip', ref(FIP, 'control_plane', 'address')),
      attr('port_id', expr(`${PORT}.vm[${JSON.stringify(cp.name)}].id`)),
    ]),
    blank,
    block('output', ['control_plane_floating_ip'], [attr('value', ref(FIP, 'control_plane', 'address'))]),
    blank,
    block('output', ['vm_addresses'], [attr('value', expr(`{ for name, vm in ${INSTANCE}.vm : name => vm.access_ip_v4 }`))]),
  ];
}

/** `publicKey`: the public half of the lab's SSH key (.labgen/secrets/id_ed25519.pub), the VMs' login. */
export function planMainTf(lab: Lab, publicKey: string): string {
  return hcl([
    comment(exportNote('--terraform')),
    comment(`The ${lab.name} lab's VMs on OpenStack: terraform init && terraform apply; the values to give are in variables.tf.`),
    blank,
    ...header(),
    blank,
    ...network(lab),
    blank,
    ...securityGroup(lab),
    blank,
    ...vms(lab, publicKey),
  ]);
}
