import { Document, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { EXIT, LabgenError } from '../errors.js';
import type { Lab } from './defaults.js';
import { onExistingHosts, vms } from './hosts.js';

/**
 * lab.yaml edited by the day-2 commands (`labgen node add`, `labgen node remove`): only the text
 * of what changes is replaced, found by its place in the source (the yaml package's parse keeps
 * every node's range), so every other byte of the user's file stays, comments and alignment
 * included. Where the file lacks the place (no `count:`, no `hosts:` list, a flow list) the
 * value is set in the parsed document, which keeps the comments but lays the file out anew.
 * Pure: text in, text out; the caller validates the result like any lab.yaml before writing.
 *
 * VM workers are numbered (`namePrefix` + index, addresses from `firstIp`): one more is
 * `count + 1` and its name is the next number; only the last can leave (`count - 1`), since
 * every later one would be renamed and re-addressed. Existing hosts are a list: one more is
 * appended, any one can leave.
 */

export interface NewWorker {
  name: string;
  /** existing hosts: its address (VMs take theirs from cluster.workers.firstIp) */
  ip?: string;
  /** existing hosts: its data disk (cluster.workers.hosts[].disk) */
  disk?: string;
}

const bad = (message: string, hint?: string) => new LabgenError(EXIT.badInput, message, hint ? { hint } : {});

function parsed(text: string, source: string): Document {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) throw bad(`${source}: not YAML: ${doc.errors[0]!.message}`);
  return doc;
}

const lineStart = (t: string, i: number) => t.lastIndexOf('\n', i - 1) + 1;
const lineEnd = (t: string, i: number) => (t.indexOf('\n', i) < 0 ? t.length : t.indexOf('\n', i) + 1);
const splice = (t: string, from: number, to: number, insert = '') => t.slice(0, from) + insert + t.slice(to);

/** The scalar at `path` set to `value` in place; else (no such scalar) in the document. */
function setScalar(text: string, doc: Document, path: string[], value: number): string {
  const node = doc.getIn(path, true) as Node | undefined;
  if (isScalar(node) && node.range) return splice(text, node.range[0], node.range[1], String(value));
  doc.setIn(path, value);
  return doc.toString();
}

/** A list entry as the entries before it are written: a flow map on its line, or a block map under `- `. */
function entryText(entry: Record<string, string>, flow: boolean, indent: string, eol: string): string {
  const d = new Document(entry);
  if (flow) {
    (d.contents as YAMLMap).flow = true;
    return `${indent}- ${d.toString().trim()}${eol}`;
  }
  const lines = d.toString().trimEnd().split('\n');
  return lines.map((l, i) => `${indent}${i ? '  ' : '- '}${l}`).join(eol) + eol;
}

/** The file's line ending (a file written on Windows keeps its CRLF). */
const eolOf = (text: string) => (text.includes('\r\n') ? '\r\n' : '\n');

/** The next VM worker's name, and the last one's (undefined: none). */
export function vmWorkerNames(lab: Lab): { next: string; last?: string } {
  const w = lab.cluster.workers;
  return { next: `${w.namePrefix}${w.count}`, ...(w.count > 0 ? { last: `${w.namePrefix}${w.count - 1}` } : {}) };
}

/** lab.yaml with one worker more. */
export function withWorker(text: string, lab: Lab, worker: NewWorker, source = 'lab.yaml'): string {
  const doc = parsed(text, source);
  const taken = vms(lab).find((v) => v.name === worker.name);
  if (taken) throw bad(`${worker.name} is already a ${taken.role === 'worker' ? 'worker' : 'control plane'} of the lab (${taken.path.replace(/\.ip$/, '')})`);
  if (onExistingHosts(lab)) {
    if (!worker.ip) throw bad(`--ip: the address of ${worker.name} is needed (cluster.provider existing: the host is yours, labgen cannot choose it)`);
    const entry = { name: worker.name, ip: worker.ip, ...(worker.disk ? { disk: worker.disk } : {}) };
    const hosts = doc.getIn(['cluster', 'workers', 'hosts'], true) as Node | undefined;
    const last = isSeq(hosts) && !hosts.flow ? (hosts.items.at(-1) as Node | undefined) : undefined;
    if (last?.range) {
      const indent = /^[ \t]*/.exec(text.slice(lineStart(text, last.range[0])))![0];
      const at = lineEnd(text, last.range[1] - 1);
      const eol = eolOf(text);
      // the last line of a file without a final newline gets one first
      const before = at === text.length && !text.endsWith('\n') ? eol : '';
      return splice(text, at, at, before + entryText(entry, isMap(last) && last.flow === true, indent, eol));
    }
    if (isSeq(hosts)) hosts.add(doc.createNode(entry));
    else doc.setIn(['cluster', 'workers', 'hosts'], doc.createNode([entry]));
    return doc.toString();
  }
  if (worker.ip || worker.disk)
    throw bad(`--${worker.ip ? 'ip' : 'disk'}: VM workers take their address from cluster.workers.firstIp and have no data disk; leave it out`);
  const { next } = vmWorkerNames(lab);
  if (worker.name !== next)
    throw bad(`${worker.name}: VM workers are named by number; the next one is ${next}`, `labgen node add ${next} (cluster.workers.count ${lab.cluster.workers.count} → ${lab.cluster.workers.count + 1})`);
  return setScalar(text, doc, ['cluster', 'workers', 'count'], lab.cluster.workers.count + 1);
}

/** lab.yaml without the worker `name`. */
export function withoutWorker(text: string, lab: Lab, name: string, source = 'lab.yaml'): string {
  const doc = parsed(text, source);
  const host = vms(lab).find((v) => v.name === name);
  if (!host) throw bad(`${name} is not a worker of the lab (its workers: ${vms(lab).filter((v) => v.role === 'worker').map((v) => v.name).join(', ') || 'none'})`);
  if (host.role === 'control-plane') throw bad(`${name} is the control plane: a cluster cannot go on without it`, 'labgen reset takes the whole cluster down');
  if (onExistingHosts(lab)) {
    const hosts = doc.getIn(['cluster', 'workers', 'hosts']);
    const at = isSeq(hosts) ? hosts.items.findIndex((i) => isMap(i) && i.get('name') === name) : -1;
    if (!isSeq(hosts) || at < 0) throw bad(`${source}: cluster.workers.hosts has no entry named ${name}`);
    const item = hosts.items[at] as Node;
    // its lines go (a comment on them with it), unless it is the last entry: `hosts: []` then
    if (!hosts.flow && hosts.items.length > 1 && item.range) return splice(text, lineStart(text, item.range[0]), lineEnd(text, item.range[1] - 1));
    hosts.delete(at);
    return doc.toString();
  }
  const { last } = vmWorkerNames(lab);
  if (name !== last)
    throw bad(`${name}: VM workers are numbered, so only the last one (${last}) can leave; removing ${name} would rename and re-address every worker after it`);
  return setScalar(text, doc, ['cluster', 'workers', 'count'], lab.cluster.workers.count - 1);
}
