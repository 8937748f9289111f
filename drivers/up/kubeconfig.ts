import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { writeFileAtomic } from '../../generator/common/atomic.js';
import { SECRETS_DIR } from '../../generator/common/layout.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { SECRET } from '../../generator/secrets/paths.js';

/**
 * The cluster's admin kubeconfig: kept in the lab folder (.labgen/secrets/admin.kubeconfig,
 * 0600), and on request merged into the user's kubeconfig as one context named after the lab.
 * Read and written with js-yaml's core schema (no timestamps or other YAML 1.1 types: a value
 * comes back as it was), as kubectl itself writes the file: without comments.
 */

/** The admin kubeconfig, relative to the lab folder. */
export const ADMIN_KUBECONFIG = `${SECRETS_DIR}/${SECRET.adminKubeconfig}`;

type Entry = Record<string, unknown> & { name?: unknown };
interface Doc extends Record<string, unknown> {
  clusters?: Entry[] | null;
  users?: Entry[] | null;
  contexts?: Entry[] | null;
  'current-context'?: unknown;
}

const LISTS = ['clusters', 'users', 'contexts'] as const;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A kubeconfig's text as a document; `what` names it in the error (a problem in it is the caller's to report). */
function parse(text: string, what: string): Doc {
  let doc: unknown;
  try {
    doc = text.trim() ? yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: what }) : {};
  } catch (e) {
    throw new Error(`not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isObject(doc)) throw new Error('not a kubeconfig (not a mapping)');
  for (const k of LISTS) if (doc[k] !== undefined && doc[k] !== null && !Array.isArray(doc[k])) throw new Error(`not a kubeconfig (${k} is not a list)`);
  return doc as Doc;
}

const named = (list: Entry[] | null | undefined, name: unknown) => (list ?? []).find((e) => isObject(e) && e.name === name);

/** The admin kubeconfig's current context: its cluster's and its user's entries (kubeadm names them `kubernetes`/clusterName and `kubernetes-admin`). */
export function adminParts(text: string): { cluster: unknown; user: unknown } {
  const doc = parse(text, 'admin kubeconfig');
  const ctx = named(doc.contexts, doc['current-context']);
  const c = isObject(ctx) && isObject(ctx.context) ? ctx.context : undefined;
  const cluster = named(doc.clusters, c?.cluster);
  const user = named(doc.users, c?.user);
  if (!c || !isObject(cluster) || !isObject(user) || !isObject(cluster.cluster) || !isObject(user.user))
    throw new Error('not an admin kubeconfig: its current context, cluster or user is missing');
  return { cluster: cluster.cluster, user: user.user };
}

/** Write the admin kubeconfig into the lab folder when it differs (atomically, 0600 either way); whether it changed. */
export function saveAdmin(labDir: string, text: string): boolean {
  adminParts(text); // never a half or foreign file in its place
  const file = join(labDir, ADMIN_KUBECONFIG);
  const same = existsSync(file) && readFileSync(file, 'utf8') === text;
  if (same && (statSync(file).mode & 0o777) === 0o600) return false;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, text, 0o600);
  return !same;
}

/**
 * The admin kubeconfig with its cluster reached at `server` (a local end of a tunnel through the
 * bastion) and the API's certificate still checked for its own name (`tls-server-name`): the one
 * kubectl on this machine uses while the API is reachable only through the bastion.
 */
export function throughTunnel(admin: string, server: string, tlsServerName: string): string {
  const doc = parse(admin, 'admin kubeconfig');
  const { cluster } = adminParts(admin);
  const named = (doc.clusters ?? []).find((c) => isObject(c) && c.cluster !== undefined && JSON.stringify(c.cluster) === JSON.stringify(cluster));
  if (named && isObject(named.cluster)) named.cluster = { ...named.cluster, server, 'tls-server-name': tlsServerName };
  return yaml.dump(doc, { schema: yaml.CORE_SCHEMA, lineWidth: -1, noRefs: true });
}

/**
 * The kubeconfig to merge into, as kubectl picks the file a new entry goes to: with $KUBECONFIG
 * set, the first file of its list that exists, else the last one; without it ~/.kube/config.
 */
export function kubeconfigTarget(env: Record<string, string | undefined>): string {
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (list.length) return list.find((f) => existsSync(f)) ?? list[list.length - 1]!;
  return join(env.HOME || homedir(), '.kube', 'config');
}

/**
 * `existing` with the lab as cluster, user and context all named `name` (an entry of that name
 * replaced, every other entry and key kept as it was). The current context is set only in a file
 * that had none: switching is the user's (`kubectl config use-context NAME`).
 */
export function mergedKubeconfig(existing: string, admin: string, name: string, file: string): string {
  const { cluster, user } = adminParts(admin);
  let doc: Doc;
  try {
    doc = parse(existing, file);
  } catch (e) {
    throw new LabgenError(EXIT.badInput, `${file}: ${(e as Error).message}; nothing was merged into it`, { hint: 'fix or move the file, then run `labgen up --merge-kubeconfig` again' });
  }
  const fresh = !Object.keys(doc).length;
  const replace = (list: Entry[] | null | undefined, entry: Entry) => [...(list ?? []).filter((e) => !(isObject(e) && e.name === name)), entry];
  const out: Doc = fresh ? { apiVersion: 'v1', kind: 'Config', preferences: {} } : doc;
  out.clusters = replace(doc.clusters, { name, cluster });
  out.users = replace(doc.users, { name, user });
  out.contexts = replace(doc.contexts, { name, context: { cluster: name, user: name } });
  if (!out['current-context']) out['current-context'] = name;
  return yaml.dump(out, { schema: yaml.CORE_SCHEMA, lineWidth: -1, noRefs: true });
}

/** Before anything runs: a kubeconfig to merge into that is not one stops the run (exit 2, nothing started). */
export function checkKubeconfig(file: string): void {
  if (!existsSync(file)) return;
  try {
    parse(readFileSync(file, 'utf8'), file);
  } catch (e) {
    throw new LabgenError(EXIT.badInput, `${file}: ${(e as Error).message}; nothing was started`, { hint: 'fix or move the file, or run `labgen up` without --merge-kubeconfig' });
  }
}

/** Merge into `file` (a symbolic link's target), atomically, 0600: it holds cluster-admin credentials. */
export function mergeKubeconfig(file: string, admin: string, name: string): { file: string; created: boolean; modeWas?: number } {
  const target = existsSync(file) ? realpathSync(file) : file;
  const created = !existsSync(target);
  const existing = created ? '' : readFileSync(target, 'utf8');
  const modeWas = created ? undefined : statSync(target).mode & 0o777;
  const text = mergedKubeconfig(existing, admin, name, file);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  writeFileAtomic(target, text, 0o600);
  return { file: target, created, ...(modeWas !== undefined && modeWas !== 0o600 ? { modeWas } : {}) };
}
