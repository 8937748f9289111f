import { intToIp, ipToInt, isIPv4 } from '../model/ip.js';
import { PI_OS } from '../model/schema.js';
import { DEFAULTS, SEED } from '../model/seed.js';
import { POOL_SERVICE, SERVICE_KEYS, type ServiceKey, serviceSpec, withNeeds } from '../model/services.js';
import { hostIn, type LabDraft, SEED_SERVICES, seedAddress, serviceEntries } from './draft.js';
import type { QuestionKey } from './flags.js';

/**
 * The one table of `labgen init` questions: for each, its key (= its flag, see ./flags.ts),
 * the prompt kind, the default (the seed lab: DEFAULTS and SEED of model/seed.ts, the
 * service table of model/services.ts) given the answers before it, and how the answer maps
 * into the lab. ./ask.ts asks them in this order; ./lab-yaml.ts writes the lab they make.
 */

export const NONE = 'none';
export const K8S = 'k8s';

/** What the wizard knows once every question has an answer. */
export interface Answers {
  name: string;
  domain: string;
  subnet: string;
  gateway: string;
  cpIp: string;
  cpCpus: number;
  cpMemory: number;
  workers: number;
  workerIp: string;
  workerCpus: number;
  workerMemory: number;
  pis: number;
  piNames: string[];
  piIp: string;
  os: string;
  /** a Pi's name or NONE */
  storage: string;
  /** a Pi's name or NONE */
  aptcache: string;
  services: string[];
  /** K8S, a Pi's name or NONE (no Slurm) */
  slurmController: string;
  slurmNodes: string[];
}

// every question has a flag and every flag a question
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameKeys: Same<keyof Answers, QuestionKey> = true;
void sameKeys;

/** The address `i` places after `ip`; an address that is not one stays as typed (the model names it). */
function after(ip: string, i: number): string {
  return isIPv4(ip) ? intToIp((ipToInt(ip) + i) % 2 ** 32) : ip;
}

export function defaultPiNames(count: number): string[] {
  const width = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => `node${String(i + 1).padStart(width, '0')}`);
}

/** The Pis that exist (as many names as Pis). */
const piNames = (a: Pick<Answers, 'pis' | 'piNames'>) => a.piNames.slice(0, a.pis);

/** Pis that are neither the storage nor the apt cache Pi: the compute Pis. */
export function computePis(a: Pick<Answers, 'pis' | 'piNames' | 'storage' | 'aptcache'>): string[] {
  return piNames(a).filter((n) => n !== a.storage && n !== a.aptcache);
}

/**
 * slurmctld runs in the cluster only with the registry (its image) and what that needs
 * (cert-manager), and MetalLB (its IP).
 */
const K8S_CONTROLLER_NEEDS: readonly ServiceKey[] = [...withNeeds(['registry']), POOL_SERVICE];
const k8sControllerPossible = (a: Pick<Answers, 'services'>) => K8S_CONTROLLER_NEEDS.every((s) => a.services.includes(s));

/** A service's line in the checklist: its key and what it is, with its seed addresses in the subnet. */
const serviceChoice = (key: ServiceKey, a: Answers) => `${key} — ${serviceSpec(key).choice({ domain: a.domain, seed: (k) => seedAddress(a.subnet, key, k) })}`;

export type Kind = 'input' | 'number' | 'select' | 'checkbox';
export type Parsed<V> = { ok: true; value: V } | { ok: false; reason: string };
export interface Choice {
  value: string;
  name: string;
}

/** One question. Members are methods so the table can hold every key's question in one array. */
export interface Question<K extends QuestionKey = QuestionKey> {
  key: K;
  kind: Kind;
  message: string;
  /** the default: DEFAULTS / the seed lab, given the answers before it and every flag given */
  default(a: Partial<Answers>): Answers[K];
  /** a flag's text (or what was typed) → the answer */
  parse(text: string): Parsed<Answers[K]>;
  /** the answer as text, the way its flag takes it */
  show(v: Answers[K]): string;
  /** select and checkbox: what may be chosen */
  choices?(a: Answers): Choice[];
  /** asked only when this holds (a worker IP only with workers) */
  when?(a: Answers): boolean;
  /** a rule of the wizard itself, beyond the model's (one name per Pi) */
  check?(v: Answers[K], a: Answers): string | undefined;
  /** lab.yaml paths this answer decides: a problem at one of them is this question's to fix */
  paths: RegExp[];
  /** how the answer maps into the lab (every question's runs, asked or not) */
  into(lab: LabDraft, v: Answers[K], a: Answers): void;
}

const text = (s: string): Parsed<string> => ({ ok: true, value: s.trim() });
const whole = (s: string): Parsed<number> =>
  /^\s*\d{1,9}\s*$/.test(s) ? { ok: true, value: Number(s) } : { ok: false, reason: 'must be a whole number like 3' };
/** "a, b c" → [a, b, c]; "none" alone → [] */
const list = (s: string): Parsed<string[]> => {
  const items = s.split(/[\s,]+/).filter(Boolean);
  return { ok: true, value: items.length === 1 && items[0] === NONE ? [] : items };
};
const str = (v: string) => v;
const num = (v: number) => String(v);
const items = (v: string[]) => (v.length ? v.join(',') : NONE);

function q<K extends QuestionKey>(spec: Question<K>): Question {
  return spec as unknown as Question;
}

/** The questions, in the order they are asked. */
export const QUESTIONS: readonly Question[] = [
  q({
    key: 'name',
    kind: 'input',
    message: 'Lab name',
    default: () => DEFAULTS.name,
    parse: text,
    show: str,
    paths: [/^name$/],
    into: (lab, v) => void (lab.name = v),
  }),
  q({
    key: 'domain',
    kind: 'input',
    message: 'Lab domain (every host name ends in it)',
    default: () => DEFAULTS.domain,
    parse: text,
    show: str,
    paths: [/^domain$/],
    into: (lab, v) => void (lab.domain = v),
  }),
  q({
    key: 'subnet',
    kind: 'input',
    message: 'LAN subnet of the laptop and the Pis (CIDR)',
    default: () => DEFAULTS.network.subnet,
    parse: text,
    show: str,
    paths: [/^network\.subnet$/, /^network\.dhcpRange$/],
    into: (lab, v) => {
      lab.network.subnet = v;
      lab.network.dhcpRange = `${hostIn(v, SEED.hosts.dhcp[0])}-${hostIn(v, SEED.hosts.dhcp[1])}`;
    },
  }),
  q({
    key: 'gateway',
    kind: 'input',
    message: 'LAN gateway (the laptop, sharing its Wi-Fi)',
    default: (a) => hostIn(a.subnet!, SEED.hosts.gateway),
    parse: text,
    show: str,
    paths: [/^network\.gateway$/],
    into: (lab, v) => void (lab.network.gateway = v),
  }),
  q({
    key: 'cpIp',
    kind: 'input',
    message: 'Control-plane VM IP',
    default: (a) => hostIn(a.subnet!, SEED.hosts.controlPlane),
    parse: text,
    show: str,
    paths: [/^cluster\.controlPlane\.ip$/],
    into: (lab, v) => void (lab.cluster.controlPlane.ip = v),
  }),
  q({
    key: 'cpCpus',
    kind: 'number',
    message: 'Control-plane VM CPUs',
    default: () => DEFAULTS.cluster.controlPlane.cpus,
    parse: whole,
    show: num,
    paths: [/^cluster\.controlPlane\.cpus$/],
    into: (lab, v) => void (lab.cluster.controlPlane.cpus = v),
  }),
  q({
    key: 'cpMemory',
    kind: 'number',
    message: 'Control-plane VM memory (MiB)',
    default: () => DEFAULTS.cluster.controlPlane.memory,
    parse: whole,
    show: num,
    paths: [/^cluster\.controlPlane\.memory$/],
    into: (lab, v) => void (lab.cluster.controlPlane.memory = v),
  }),
  q({
    key: 'workers',
    kind: 'number',
    message: 'Worker VMs (0: the control plane is the whole cluster)',
    default: () => DEFAULTS.cluster.workers.count,
    parse: whole,
    show: num,
    paths: [/^cluster\.workers\.count$/, /^cluster\.workers\.namePrefix$/],
    into: (lab, v) => {
      lab.cluster.workers = v > 0 ? { count: v, namePrefix: DEFAULTS.cluster.workers.namePrefix } : { count: 0 };
    },
  }),
  q({
    key: 'workerIp',
    kind: 'input',
    message: 'First worker VM IP (the others follow it)',
    default: (a) => hostIn(a.subnet!, SEED.hosts.firstWorker),
    parse: text,
    show: str,
    when: (a) => a.workers > 0,
    paths: [/^cluster\.workers\.firstIp/, /^cluster\.workers$/],
    into: (lab, v, a) => void (a.workers > 0 && (lab.cluster.workers.firstIp = v)),
  }),
  q({
    key: 'workerCpus',
    kind: 'number',
    message: 'CPUs per worker VM',
    default: () => DEFAULTS.cluster.workers.cpus,
    parse: whole,
    show: num,
    when: (a) => a.workers > 0,
    paths: [/^cluster\.workers\.cpus$/],
    into: (lab, v, a) => void (a.workers > 0 && (lab.cluster.workers.cpus = v)),
  }),
  q({
    key: 'workerMemory',
    kind: 'number',
    message: 'Memory per worker VM (MiB)',
    default: () => DEFAULTS.cluster.workers.memory,
    parse: whole,
    show: num,
    when: (a) => a.workers > 0,
    paths: [/^cluster\.workers\.memory$/],
    into: (lab, v, a) => void (a.workers > 0 && (lab.cluster.workers.memory = v)),
  }),
  q({
    key: 'pis',
    kind: 'number',
    message: 'Raspberry Pis',
    default: (a) => a.piNames?.length ?? SEED.pis,
    parse: whole,
    show: num,
    check: (v) => (v > 1000 ? 'at most 1000 Pis' : undefined),
    paths: [/^pis\.nodes$/],
    into: (lab, v) => void (lab.pis.nodes = Array.from({ length: v }, () => ({ name: '', ip: '', roles: [] }))),
  }),
  q({
    key: 'piNames',
    kind: 'input',
    message: 'Pi names, comma-separated',
    default: (a) => defaultPiNames(a.pis ?? SEED.pis),
    parse: list,
    show: items,
    when: (a) => a.pis > 0,
    check: (v, a) => {
      if (v.length !== a.pis) return `give ${a.pis} name${a.pis === 1 ? '' : 's'}, one per Pi (got ${v.length})`;
      const reserved = v.find((n) => n === NONE || n === K8S);
      return reserved ? `"${reserved}" is reserved (it means no Pi, or the cluster, to --storage, --aptcache and --slurm-controller)` : undefined;
    },
    paths: [/^pis\.nodes\[\d+\]\.name$/],
    into: (lab, v) => {
      const fallback = defaultPiNames(lab.pis.nodes.length);
      lab.pis.nodes.forEach((n, i) => (n.name = v[i] ?? fallback[i]!));
    },
  }),
  q({
    key: 'piIp',
    kind: 'input',
    message: 'First Pi IP (the others follow it)',
    default: (a) => hostIn(a.subnet!, SEED.hosts.firstPi),
    parse: text,
    show: str,
    when: (a) => a.pis > 0,
    paths: [/^pis\.nodes\[\d+\]\.ip$/],
    into: (lab, v) => lab.pis.nodes.forEach((n, i) => (n.ip = after(v, i))),
  }),
  q({
    key: 'os',
    kind: 'select',
    message: 'Raspberry Pi OS release',
    default: () => DEFAULTS.pis.os,
    parse: text,
    show: str,
    choices: () =>
      PI_OS.map((os) => ({
        value: os,
        name: { bullseye: 'bullseye (11; network by dhcpcd)', bookworm: 'bookworm (12; NetworkManager)', trixie: 'trixie (13; cloud-init)' }[os],
      })),
    paths: [/^pis\.os$/],
    // the answer as typed: a value that is no release is the model's to refuse (validateLab)
    into: (lab, v) => void (lab.pis.os = v as LabDraft['pis']['os']),
  }),
  q({
    key: 'storage',
    kind: 'select',
    message: 'Storage Pi (NFS volumes for the cluster)',
    default: (a) => (a.pis ? (a.piNames?.[0] ?? NONE) : NONE),
    parse: text,
    show: str,
    when: (a) => a.pis > 0,
    choices: (a) => [...piNames(a).map((n) => ({ value: n, name: n })), { value: NONE, name: 'none (no NFS storage)' }],
    paths: [/^storage(\.|$)/],
    into: (lab, v, a) => {
      if (v === NONE || a.pis === 0) delete lab.storage;
      lab.pis.nodes.forEach((n) => n.name === v && n.roles.push('storage'));
    },
  }),
  q({
    key: 'aptcache',
    kind: 'select',
    message: 'apt cache Pi (apt-cacher-ng for every Pi and VM)',
    default: (a) => (a.pis ? (a.piNames?.[0] ?? NONE) : NONE),
    parse: text,
    show: str,
    when: (a) => a.pis > 0,
    choices: (a) => [...piNames(a).map((n) => ({ value: n, name: n })), { value: NONE, name: 'none (no apt cache)' }],
    paths: [/^pis\.nodes\[\d+\]\.roles$/],
    into: (lab, v) => {
      lab.pis.nodes.forEach((n) => n.name === v && n.roles.push('aptcache'));
      // the rest run jobs
      lab.pis.nodes.forEach((n) => n.roles.length === 0 && n.roles.push('compute'));
    },
  }),
  q({
    key: 'services',
    kind: 'checkbox',
    message: 'Services to run in the cluster',
    default: () => [...SEED_SERVICES],
    parse: list,
    show: items,
    choices: (a) => SERVICE_KEYS.map((s) => ({ value: s, name: serviceChoice(s, a) })),
    paths: [/^services\.[A-Za-z]+$/],
    into: (lab, v, a) => {
      const on = serviceEntries(a.subnet);
      lab.services = Object.fromEntries(SERVICE_KEYS.map((s) => [s, v.includes(s) ? on[s] : { enabled: false }]));
      lab.network.dns = [v.includes('coredns') ? seedAddress(a.subnet, 'coredns', 'ip') : a.gateway];
    },
  }),
  q({
    key: 'slurmController',
    kind: 'select',
    message: 'Slurm controller (slurmctld)',
    default: (a) => {
      const all = a as Answers;
      const compute = computePis(all);
      if (compute.length === 0) return NONE; // no Pi left to run jobs
      return k8sControllerPossible(all) ? K8S : compute[0]!;
    },
    parse: text,
    show: str,
    choices: (a) => [
      { value: K8S, name: `k8s (in the cluster, on ${hostIn(a.subnet, SEED.hosts.slurmctld)})` },
      ...piNames(a).map((n) => ({ value: n, name: n })),
      { value: NONE, name: 'none (no Slurm)' },
    ],
    check: (v, a) =>
      v !== NONE && computePis(a).length === 0 ? 'no Pi is left to run jobs (each is the storage or apt cache Pi): choose none' : undefined,
    paths: [/^slurm$/, /^slurm\.controller$/, /^slurm\.ip$/],
    into: (lab, v, a) => {
      if (v === NONE) delete lab.slurm;
      else lab.slurm = { controller: v, ...(v === K8S ? { ip: hostIn(a.subnet, SEED.hosts.slurmctld) } : {}), partition: DEFAULTS.slurm.partition, nodes: [] };
    },
  }),
  q({
    key: 'slurmNodes',
    kind: 'checkbox',
    message: 'Slurm compute nodes',
    default: (a) => computePis(a as Answers),
    parse: list,
    show: items,
    when: (a) => a.slurmController !== NONE,
    choices: (a) => computePis(a).map((n) => ({ value: n, name: n })),
    check: (v) => (v.length === 0 ? 'choose at least one Pi (or no Slurm: controller none)' : undefined),
    paths: [/^slurm\.nodes/],
    into: (lab, v) => void (lab.slurm && (lab.slurm.nodes = [...v])),
  }),
];

export const QUESTION: Readonly<Record<QuestionKey, Question>> = Object.fromEntries(QUESTIONS.map((x) => [x.key, x])) as Record<QuestionKey, Question>;

/** Every answer: the ones given, defaults (in question order, so they follow earlier answers) for the rest. */
export function complete(given: Partial<Answers>): Answers {
  const acc: Partial<Answers> = {};
  for (const x of QUESTIONS) (acc as Record<string, unknown>)[x.key] = x.key in given ? given[x.key] : x.default({ ...given, ...acc });
  return acc as Answers;
}

/** Whether a question is asked, given the answers. */
export const asked = (x: Question, a: Answers) => x.when?.(a) ?? true;

/** The lab the answers make, every key the seed lab.yaml writes (ready for validateLab and ./lab-yaml.ts). */
export function toLab(a: Answers): LabDraft {
  const c = DEFAULTS.cluster;
  const lab: LabDraft = {
    version: 1,
    name: DEFAULTS.name,
    domain: DEFAULTS.domain,
    network: { subnet: DEFAULTS.network.subnet, gateway: '', dns: [], upstreamDns: [...DEFAULTS.network.upstreamDns], dhcpRange: '' },
    cluster: {
      provider: c.provider,
      box: c.box,
      bridge: c.bridge,
      kubernetesVersion: c.kubernetesVersion,
      cni: c.cni,
      podSubnet: c.podSubnet,
      serviceSubnet: c.serviceSubnet,
      controlPlane: { name: c.controlPlane.name, ip: '', cpus: c.controlPlane.cpus, memory: c.controlPlane.memory },
      workers: { count: 0 },
    },
    pis: { os: DEFAULTS.pis.os, interface: DEFAULTS.pis.interface, user: DEFAULTS.pis.user, authorizedKeys: [...SEED.authorizedKeys], nodes: [] },
    storage: { disk: SEED.storage.disk, exports: SEED.storage.exports.map((e) => ({ ...e })) },
    services: {},
  };
  for (const x of QUESTIONS) x.into(lab, a[x.key], a);
  return lab;
}
