import { join } from 'node:path';
import { KNOWN_HOSTS } from '../../generator/common/layout.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { authorizedKeys } from '../../generator/lab-folder/authorized-keys.js';
import { requireCurrent } from '../../generator/lab-folder/current.js';
import { openLabFolder } from '../../generator/lab-folder/open.js';
import type { HostKey } from '../../generator/secrets/store.js';
import { KnownHostsFile } from '../base/known-hosts.js';

/**
 * What adopt starts from: the lab folder, up to date (adopt installs the keys `labgen generate`
 * keeps in .labgen/secrets/ and pinned in .labgen/known_hosts: a key only made in memory would be
 * lost), the Pis asked for with where to reach them, who logs in, and the keys that may log in.
 * Every problem with the command line is bad input (exit 2), found before anything connects.
 */

export interface AdoptTarget {
  node: string;
  /** its address in lab.yaml */
  ip: string;
  /** where to reach it now: --address (a stock Pi on a DHCP address), else lab.yaml's */
  address: string;
  /** the lab user (lab.pis.user) */
  user: string;
  /** labgen's host key for it */
  hostKey: HostKey;
  /** the fingerprint the user gave for it (--fingerprint) */
  fingerprint?: string;
}

export interface AdoptLab {
  labDir: string;
  targets: AdoptTarget[];
  /** the lab's SSH key (what push logs in with) */
  labKey: { private: string; public: string };
  /** what goes into the lab user's authorized_keys: the lab key, then pis.authorizedKeys */
  authorizedKeys: string[];
  /** every host pinned (adopt requires it): a Pi answering with another host's key is refused */
  knownHosts: KnownHostsFile;
  /** who logs in with the user's own credentials (--user; default: the lab user) */
  loginUser?: string;
}

export interface AdoptSelection {
  lab: string;
  /** --user */
  user?: string;
  address?: string;
  /** `SHA256:…` (one Pi) or `NODE=SHA256:…`, as given */
  fingerprint?: string[];
}

/** `SHA256:` and 43 base64 characters: how `ssh-keygen -l` prints a key's SHA-256 (32 bytes, unpadded). */
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** an IPv4 or IPv6 address or a host name (raspberrypi.local); never an option */
const ADDRESS = /^[A-Za-z0-9:][A-Za-z0-9.:-]*$/;
/** a login user: what Linux takes (john.doe too), never an option */
const LOGIN_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/;

const usage = (message: string, hint?: string) => new LabgenError(EXIT.badInput, message, { hint });

/** --fingerprint values by node: a bare one belongs to the only Pi named; with several, each names its Pi. `what` names the hosts (labgen up: existing hosts). */
export function fingerprintsByNode(values: readonly string[], nodes: readonly string[], what = { one: 'Pi', all: 'the Pis to adopt' }): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const node = eq >= 0 ? v.slice(0, eq) : nodes.length === 1 ? nodes[0]! : undefined;
    const fp = eq >= 0 ? v.slice(eq + 1) : v;
    if (node === undefined)
      throw usage(`--fingerprint ${v}: which ${what.one}'s? Several ${what.one}s are named`, `name it: --fingerprint ${nodes[0]}=${fp}, once for each ${what.one}`);
    if (!nodes.includes(node)) throw usage(`--fingerprint ${v}: ${node} is not one of ${what.all} (${nodes.join(', ')})`);
    if (!FINGERPRINT.test(fp))
      throw usage(`--fingerprint ${v}: not a SHA256 fingerprint`, `on the ${what.one}, \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` prints it: SHA256: and 43 characters`);
    if (out.has(node) && out.get(node) !== fp) throw usage(`--fingerprint: two fingerprints for ${node}`);
    out.set(node, fp);
  }
  return out;
}

export function loadAdoptLab(opts: AdoptSelection, nodesGiven: string[]): AdoptLab {
  const nodes = [...new Set(nodesGiven)];
  if (nodes.length === 0) throw usage('name the Pis to adopt', 'labgen adopt node01 [node02 …]');
  if (opts.address !== undefined && nodes.length > 1)
    throw usage(`--address names one Pi's address, but ${nodes.length} Pis are named (${nodes.join(', ')})`, 'adopt a Pi on another address on its own: labgen adopt NODE --address IP');
  if (opts.address !== undefined && !ADDRESS.test(opts.address)) throw usage(`--address ${JSON.stringify(opts.address)} is not an address or a host name`);
  if (opts.user !== undefined && !LOGIN_USER.test(opts.user)) throw usage(`--user ${JSON.stringify(opts.user)} is not a user name`);
  const p = openLabFolder(opts.lab);
  const all = p.lab.pis.nodes;
  const unknown = nodes.filter((n) => !all.some((x) => x.name === n));
  if (unknown.length) throw usage(`not a Pi of this lab: ${unknown.join(', ')}`, `the lab's Pis: ${all.map((x) => x.name).join(', ') || '(none)'}`);
  const fingerprints = fingerprintsByNode(opts.fingerprint ?? [], nodes);
  // the chosen Pis' files as generate writes them, every secret on disk, every host pinned
  const mine = p.decisions.filter((d) => d.spec?.kind === 'pi' && nodes.includes(d.spec.host ?? ''));
  requireCurrent(p, mine, { nothing: 'nothing was adopted', why: 'adopt installs the keys it keeps in .labgen/secrets/ and pins in .labgen/known_hosts', pins: true });
  const labKey = p.secrets.secrets.sshKey;
  return {
    labDir: p.labDir,
    targets: nodes.map((node) => {
      const ip = all.find((x) => x.name === node)!.ip;
      return { node, ip, address: opts.address ?? ip, user: p.lab.pis.user, hostKey: p.secrets.hostKeys[node]!, fingerprint: fingerprints.get(node) };
    }),
    labKey,
    authorizedKeys: authorizedKeys(p.labDir, labKey.public, p.lab.pis.authorizedKeys),
    knownHosts: new KnownHostsFile(join(p.labDir, KNOWN_HOSTS)),
    loginUser: opts.user,
  };
}
