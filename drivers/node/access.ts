import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../generator/model/defaults.js';
import { onExistingHosts, vms } from '../../generator/model/hosts.js';
import type { KnownHostsFile } from '../base/known-hosts.js';
import type { LocalRunner } from '../base/local.js';
import type { Runner } from '../base/runner.js';
import { ADMIN_KUBECONFIG } from '../up/kubeconfig.js';
import { HostReach, type Tunnel } from '../up/reach.js';
import { Vagrant } from '../up/vagrant.js';

/**
 * How the day-2 commands reach a lab's cluster, whatever it runs on: each host as root (a VM
 * through `vagrant ssh`; an existing host over SSH, its pinned key checked, through the bastion
 * when there is one: up/reach.ts, as `labgen up` reaches it) and the API (the admin kubeconfig
 * `labgen up` fetched; through the bastion, a tunnel).
 */

export interface AccessInput {
  labDir: string;
  lab: Lab;
  /** runs vagrant and kubectl here, in the lab folder */
  local: LocalRunner;
  /** existing hosts: the lab's SSH key (OpenSSH private key text) and the pins */
  privateKey: string;
  knownHosts: KnownHostsFile;
  connectTimeoutMs: number;
}

export interface HostHandle {
  runner: Runner;
  /** an existing host's key, as it presented it (its pin goes when the host leaves the lab) */
  hostKey?: Buffer;
}

/** A host the day-2 commands find unpinned: `labgen up` never met it, so it was never in the cluster labgen made. */
const neverMet = (node: string) =>
  `labgen up never reached ${node} (its key is not pinned), so it holds nothing of the cluster; if it is gone for good, labgen node remove ${node} --force takes it out of the lab`;

export class ClusterAccess {
  readonly vagrant?: Vagrant;
  private readonly reach?: HostReach;
  private bastion?: Promise<unknown>;
  private tunnel?: Tunnel;

  constructor(private readonly o: AccessInput) {
    if (onExistingHosts(o.lab))
      // no first contact here: every host was met (and its key confirmed) by `labgen up`
      this.reach = new HostReach({ ...o, fingerprints: new Map(), firstContact: neverMet });
    else this.vagrant = new Vagrant(o.local);
  }

  /** The host `name` (a VM or an existing host of the lab) as root. */
  async host(name: string): Promise<HostHandle> {
    if (this.vagrant) return { runner: this.vagrant.on(name) };
    const host = vms(this.o.lab).find((h) => h.name === name)!;
    await (this.bastion ??= this.reach!.openBastion());
    const r = await this.reach!.connect(name, host.ip);
    return { runner: r, hostKey: r.hostKey };
  }

  /** The kubeconfig kubectl here reaches the API with; undefined: `labgen up` never fetched one (no cluster yet). */
  async kubeconfig(): Promise<string | undefined> {
    const admin = join(this.o.labDir, ADMIN_KUBECONFIG);
    if (!existsSync(admin)) return undefined;
    if (!this.reach) return admin;
    await (this.bastion ??= this.reach.openBastion());
    this.tunnel ??= await this.reach.apiTunnel(admin);
    return this.tunnel?.kubeconfig ?? admin;
  }

  close(): void {
    this.tunnel?.close();
    this.reach?.close();
  }
}
