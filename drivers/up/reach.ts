import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../../generator/model/defaults.js';
import { API_HOST } from '../../generator/model/hosts.js';
import { BASTION } from '../../generator/plan/support/cluster-hosts.js';
import { API_PORT } from '../../generator/plan/support/cluster-ports.js';
import type { StepError } from '../base/failure.js';
import { fingerprint, type KnownHostsFile } from '../base/known-hosts.js';
import { connectSsh, HostKeyError, hostKeyOf, localForward, type SshRunner } from '../base/ssh.js';
import { throughTunnel } from './kubeconfig.js';

/**
 * How labgen reaches a lab's existing hosts (cluster.provider existing) over SSH, for `labgen up`
 * and the day-2 commands alike: the lab key as cluster.ssh.user, through the bastion when there
 * is one, every host key checked against .labgen/known_hosts. A key seen for the first time is
 * shown and confirmed (on a terminal, or by --fingerprint) before anything is sent, then pinned,
 * as `labgen adopt` does; never accepted blindly.
 */

export interface ReachOptions {
  lab: Lab;
  /** the lab's SSH key (OpenSSH private key text) */
  privateKey: string;
  knownHosts: KnownHostsFile;
  /** --fingerprint, by host name (the bastion's: `lab-bastion`) */
  fingerprints: ReadonlyMap<string, string>;
  /** asks on a terminal whether a key shown for the first time is the host's; none: --fingerprint only */
  confirmKey?: (node: string, address: string, fingerprint: string) => Promise<boolean>;
  /** SSH connect + handshake + login */
  connectTimeoutMs: number;
  /** what to do about a key seen for the first time without a terminal or --fingerprint (the refusal's last words) */
  firstContact: (node: string, fingerprint: string) => string;
}

/** `labgen up`'s advice for a key seen for the first time: check it on the host, then confirm it. */
export const confirmWithUp = (node: string, fp: string) =>
  `On the host, \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` prints its key: if it is ${fp}, run labgen up --fingerprint ${node}=${fp}`;

/** A host's key was not confirmed (no terminal and no --fingerprint, or a wrong one): nothing sent. */
export class TrustError extends Error implements StepError {
  readonly step = 'host key';
}

/** A kubeconfig that reaches the API through the bastion, and how to close that way. */
export interface Tunnel {
  kubeconfig: string;
  close: () => void;
}

export class HostReach {
  private bastionRunner?: SshRunner;
  private readonly open: SshRunner[] = [];

  constructor(private readonly o: ReachOptions) {}

  get bastion(): SshRunner | undefined {
    return this.bastionRunner;
  }

  /** The bastion, connected (its key checked like a host's); undefined when the lab has none. */
  async openBastion(): Promise<SshRunner | undefined> {
    const ssh = this.o.lab.cluster.ssh!;
    if (!ssh.bastion) return undefined;
    this.bastionRunner = await this.connect(BASTION, ssh.bastion.address, ssh.bastion.user ?? ssh.user);
    return this.bastionRunner;
  }

  /** Connected with the lab key, the host key checked against the pins; a first contact's key confirmed and pinned first. */
  async connect(node: string, address: string, user: string = this.o.lab.cluster.ssh!.user): Promise<SshRunner> {
    const { o } = this;
    const via = this.bastionRunner && node !== BASTION ? { via: this.bastionRunner } : {};
    const open = async () => {
      const r = await connectSsh({ node, address, user, privateKey: o.privateKey, knownHosts: o.knownHosts, trustNew: false, record: false, timeoutMs: o.connectTimeoutMs, ...via });
      if (node !== BASTION) this.open.push(r);
      return r;
    };
    try {
      return await open();
    } catch (e) {
      if (!(e instanceof HostKeyError && e.verdict.status === 'unknown')) throw e;
    }
    // first contact: the key it presents (nothing sent) is shown and confirmed, then pinned;
    // the connection that follows is checked against that pin, so a key swapped meanwhile is refused
    const key = await hostKeyOf({ node, address, type: 'ssh-ed25519', timeoutMs: o.connectTimeoutMs, ...via });
    await this.confirm(node, address, fingerprint(key));
    o.knownHosts.pin([node, address], key);
    return open();
  }

  private async confirm(node: string, address: string, fp: string): Promise<void> {
    const given = this.o.fingerprints.get(node);
    const who = `${node} (${address})`;
    if (given !== undefined) {
      if (given !== fp) throw new TrustError(`${who} presents the host key ssh-ed25519 ${fp}, not the --fingerprint ${given}; refused: nothing was sent to it`);
      return;
    }
    if (!this.o.confirmKey)
      throw new TrustError(
        `${who} presents the host key ssh-ed25519 ${fp}, which the lab has not pinned, and there is no terminal to confirm it on; refused: nothing was sent to it. ${this.o.firstContact(node, fp)}`,
      );
    if (!(await this.o.confirmKey(node, address, fp))) throw new TrustError(`${who} presents the host key ssh-ed25519 ${fp}: not confirmed; refused: nothing was sent to it`);
  }

  /**
   * Through a bastion the API is reachable only from there: kubectl here goes through a local
   * forward to the control plane's :6443, with a kubeconfig of its own (0600, removed on close)
   * that names the forward and still checks the API's certificate for api.<domain>. Undefined:
   * no bastion, the admin kubeconfig serves as it is.
   */
  async apiTunnel(kubeconfig: string): Promise<Tunnel | undefined> {
    if (!this.bastionRunner) return undefined;
    const fwd = await localForward(this.bastionRunner, this.o.lab.cluster.controlPlane.ip, API_PORT);
    const dir = mkdtempSync(join(tmpdir(), 'labgen-api-'));
    const file = join(dir, 'kubeconfig');
    try {
      writeFileSync(file, throughTunnel(readFileSync(kubeconfig, 'utf8'), `https://127.0.0.1:${fwd.port}`, `${API_HOST}.${this.o.lab.domain}`), { mode: 0o600 });
    } catch (e) {
      fwd.close();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      kubeconfig: file,
      close: () => {
        fwd.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  /** Every connection this made, the bastion last (the others go through it). */
  close(): void {
    for (const r of this.open) r.close();
    this.bastionRunner?.close();
  }
}
