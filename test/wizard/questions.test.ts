import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { parseLabYaml, validateLab } from '../../generator/model/load.js';
import { ask } from '../../generator/wizard/ask.js';
import { refusals } from '../../generator/wizard/check.js';
import { flagName, INIT_FLAGS } from '../../generator/wizard/flags.js';
import { labYaml, SCHEMA_REF } from '../../generator/wizard/lab-yaml.js';
import { type Answers, complete, QUESTIONS, toLab } from '../../generator/wizard/questions.js';
import { loadYaml, ROOT, SEED_LAB } from './support.js';

const seedAnswers = () => complete({});
/** The answers of the first questions, up to (not including) `key`, at their defaults: what a user who pressed Enter has settled. */
function settledBefore(key: keyof Answers, over: Partial<Answers> = {}): Partial<Answers> {
  const keys = QUESTIONS.map((q) => q.key);
  const a = complete(over);
  return Object.fromEntries(keys.slice(0, keys.indexOf(key)).map((k) => [k, a[k]]));
}

async function rejection(p: Promise<unknown>): Promise<LabgenError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(LabgenError);
  return e as LabgenError;
}

describe('the question table', () => {
  it('has one question per flag, in the flags order', () => {
    expect(QUESTIONS.map((q) => q.key)).toEqual(Object.keys(INIT_FLAGS));
    for (const q of QUESTIONS) expect(INIT_FLAGS[q.key].flag).toMatch(/^--[a-z]+(-[a-z]+)* <[a-z]+>$/);
  });

  it('its defaults are the seed lab: the lab they make parses equal to labs/rpi-slurm/lab.yaml', () => {
    expect(toLab(seedAnswers())).toEqual(loadYaml(SEED_LAB));
    expect(validateLab(toLab(seedAnswers()))).toEqual(validateLab(loadYaml(SEED_LAB)));
  });

  it('every default address follows the subnet', () => {
    const a = complete({ subnet: '192.168.50.0/24' });
    expect([a.gateway, a.cpIp, a.workerIp, a.piIp]).toEqual(['192.168.50.1', '192.168.50.210', '192.168.50.220', '192.168.50.2']);
    const lab = validateLab(toLab(a));
    expect(lab.services.metallb?.addresses).toEqual(['192.168.50.10-192.168.50.49']);
    expect(lab.network.dhcpRange).toBe('192.168.50.150-192.168.50.199');
    expect(lab.slurm?.ip).toBe('192.168.50.28');
  });

  it('Pis: node01..nodeNN from the first IP up; the first Pi storage + apt cache, the rest compute and Slurm nodes', () => {
    const lab = toLab(complete({ pis: 3, piIp: '10.0.0.100' }));
    expect(lab.pis.nodes).toEqual([
      { name: 'node01', ip: '10.0.0.100', roles: ['storage', 'aptcache'] },
      { name: 'node02', ip: '10.0.0.101', roles: ['compute'] },
      { name: 'node03', ip: '10.0.0.102', roles: ['compute'] },
    ]);
    expect(lab.slurm?.nodes).toEqual(['node02', 'node03']);
    expect(complete({ pis: 12 }).piNames.at(-1)).toBe('node12');
  });

  it('without the registry or cert-manager the Slurm controller defaults to the first compute Pi; with no compute Pi, no Slurm', () => {
    expect(complete({ services: ['metallb', 'coredns'] }).slurmController).toBe('node02');
    expect(complete({ services: ['metallb', 'registry'] }).slurmController).toBe('node02');
    const one = complete({ pis: 1 });
    expect([one.storage, one.aptcache, one.slurmController]).toEqual(['node01', 'node01', 'none']);
    expect(toLab(one).slurm).toBeUndefined();
    const none = complete({ pis: 0 });
    expect(toLab(none).storage).toBeUndefined();
    expect(() => validateLab(toLab(none))).not.toThrow();
  });
});

describe('each answer is checked live by the model', () => {
  it('a Pi IP that is the gateway is refused, with the reason', () => {
    expect(refusals('piIp', '10.0.0.1', settledBefore('piIp'))).toEqual(['pis.nodes[0].ip: 10.0.0.1 is already used by network.gateway']);
    expect(refusals('piIp', '10.0.0.60', settledBefore('piIp'))).toEqual([]);
  });

  it('a problem a later question can still fix waits for it; once that one is settled, it is refused', () => {
    // the gateway typed as the default first Pi IP: the Pi IP question will refuse its default
    expect(refusals('gateway', '10.0.0.2', settledBefore('gateway'))).toEqual([]);
    // ...unless the Pi IP was given as a flag
    expect(refusals('gateway', '10.0.0.2', { ...settledBefore('gateway'), piIp: '10.0.0.2' })).toEqual([
      'pis.nodes[0].ip: 10.0.0.2 is already used by network.gateway',
    ]);
  });

  it('too many Pis for the layout: refused for --pis when nothing else can move, left to the Pi IP at a prompt', () => {
    const problems = refusals('pis', 60, {}, { nothingOpen: true });
    expect(problems).toContain('services.metallb.addresses[0]: 10.0.0.10-10.0.0.49 contains 10.0.0.10 of pis.nodes[8] (node09)');
    expect(refusals('pis', 60, settledBefore('pis'))).toEqual([]);
    expect(refusals('piIp', '10.0.0.2', settledBefore('piIp', { pis: 60 }))).toContain(
      'services.coredns.ip: 10.0.0.21 is already used by pis.nodes[19] (node20)',
    );
    expect(refusals('piIp', '10.0.0.60', settledBefore('piIp', { pis: 60 }))).toEqual([]);
  });

  it('a problem of another answer is not this one\'s', () => {
    expect(refusals('subnet', '10.0.0.300/24', { os: 'jessie' })).toEqual([
      'network.subnet: must be an IPv4 subnet in CIDR form like 10.0.0.0/24 (got "10.0.0.300/24")',
    ]);
    expect(refusals('os', 'jessie', {})).toEqual(['"jessie": choose from bullseye, bookworm, trixie']);
  });

  it('a subnet that overlaps the pod subnet is refused with the model\'s reason', () => {
    expect(refusals('subnet', '10.244.0.0/24', {})).toContain('cluster.podSubnet: 10.244.0.0/16 overlaps the LAN network.subnet 10.244.0.0/24');
  });

  it('services that need each other: the registry without cert-manager is refused', () => {
    const services = ['metallb', 'coredns', 'registry'];
    expect(refusals('services', services, settledBefore('services'))).toEqual([
      'services.registry: needs services.certManager, which issues its TLS certificate from the lab CA (containerd never trusts an insecure registry)',
    ]);
    expect(refusals('services', ['coredns'], settledBefore('services'))[0]).toMatch(/^services\.metallb: required \(and enabled\)/);
  });

  it('the Slurm controller: k8s needs the registry; nodes must be compute Pis', () => {
    const settled = settledBefore('slurmController', { services: ['metallb', 'coredns'] });
    expect(refusals('slurmController', 'k8s', settled)).toEqual([
      'slurm.controller: k8s needs services.registry, where the slurmctld image is built and pushed (or make a Pi the controller)',
    ]);
    expect(refusals('slurmController', 'node03', settled)).toEqual([]);
    expect(refusals('slurmNodes', ['node01'], settledBefore('slurmNodes'))).toEqual(['"node01": choose from node02, node03, node04, node05']);
    expect(refusals('slurmNodes', [], settledBefore('slurmNodes'))).toEqual(['choose at least one Pi (or no Slurm: controller none)']);
  });

  it('Pi names: one per Pi, each an RFC 1123 name, none reserved', () => {
    const settled = settledBefore('piNames', { pis: 2 });
    expect(refusals('piNames', ['a'], settled)).toEqual(['give 2 names, one per Pi (got 1)']);
    expect(refusals('piNames', ['a', 'B_2'], settled)[0]).toMatch(/^pis\.nodes\[1\]\.name: must be an RFC 1123 name/);
    expect(refusals('piNames', ['a', 'none'], settled)[0]).toMatch(/"none" is reserved/);
    expect(refusals('piNames', ['a', 'kv-master-0'], settled)).toEqual(['pis.nodes[1].name: name "kv-master-0" is already used by cluster.controlPlane.name']);
  });
});

describe('ask() without a terminal', () => {
  it('without --yes, every question without a flag is an error (exit 2) that lists the flags to give', async () => {
    const e = await rejection(ask({ flags: { name: 'lab1', subnet: '192.168.50.0/24' }, interactive: false }));
    expect(e.code).toBe(EXIT.badInput);
    for (const q of QUESTIONS) {
      if (q.key === 'name' || q.key === 'subnet') expect(e.message).not.toContain(`${flagName(q.key)} <`);
      else expect(e.message).toContain(INIT_FLAGS[q.key].flag);
    }
    expect(e.message).toContain('(default: 192.168.50.1)'); // the gateway's default follows --subnet
    expect(e.hint).toMatch(/--yes/);
  });

  it('questions that are not asked need no flag: no worker flags with --workers 0', async () => {
    const e = await rejection(ask({ flags: { workers: '0' }, interactive: false }));
    expect(e.message).not.toContain('--worker-ip');
    expect(e.message).toContain('--cp-ip');
  });

  it('every flag given: no prompt, no --yes needed', async () => {
    const a = complete({ name: 'x', pis: 2 });
    const flags = Object.fromEntries(QUESTIONS.map((q) => [q.key, q.show(a[q.key] as never)]));
    const answers = await ask({ flags, interactive: false });
    expect(answers).toEqual(a);
  });

  it('--yes takes the defaults; a bad flag value is exit 2 naming the flag', async () => {
    expect(await ask({ flags: {}, yes: true, interactive: false })).toEqual(seedAnswers());
    for (const [flags, named] of [
      [{ subnet: '10.0.0.300/24' }, '--subnet 10.0.0.300/24'],
      [{ os: 'jessie' }, '--os jessie'],
      [{ pis: 'many' }, '--pis "many"'],
      [{ piIp: '10.0.0.1' }, '--pi-ip 10.0.0.1'],
      [{ storage: 'node09' }, '--storage node09'],
    ] as const) {
      const e = await rejection(ask({ flags, yes: true, interactive: false }));
      expect(e.code).toBe(EXIT.badInput);
      expect(e.message).toContain(named);
    }
  });
});

describe('lab.yaml as init writes it', () => {
  it('parses to exactly the lab the answers make, passes the model, and is byte-stable', () => {
    for (const over of [{}, { pis: 0, workers: 0 }, { pis: 2, storage: 'none', services: ['metallb', 'coredns'] }, { pis: 1 }] as Partial<Answers>[]) {
      const lab = toLab(complete(over));
      const text = labYaml(lab, 'x.json');
      expect(yaml.load(text)).toEqual(lab);
      expect(() => parseLabYaml(text)).not.toThrow();
      expect(labYaml(toLab(complete(over)), 'x.json')).toBe(text);
    }
  });

  it("its first line points editors at the lab folder's copy of the schema", () => {
    const text = labYaml(toLab(seedAnswers()), SCHEMA_REF);
    const ref = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
    expect(ref).toBe('lab.schema.json');
  });

  it('keeps the seed file\'s comments and says what is off and how to turn it on', () => {
    const text = labYaml(toLab(complete({ pis: 2, storage: 'none', aptcache: 'none', slurmController: 'none', workers: 0 })), 's.json');
    expect(text).toContain('  gateway: 10.0.0.1            # the laptop, sharing its Wi-Fi (seed 003)');
    expect(text).toContain('cluster:                       # Kubernetes on VMs on the laptop');
    expect(text).toContain('  logging: { enabled: false }  # off; to turn it on: { enabled: true, ip: 10.0.0.34 }');
    expect(text).toContain('  workers: { count: 0 }        # none: the control plane is the whole cluster');
    expect(text).toMatch(/^# no storage Pi: /m);
    expect(text).toMatch(/^# no Slurm: /m);
    expect(text).toContain('Roles: no Pi keeps NFS volumes; no apt cache; no Slurm.');
  });
});
