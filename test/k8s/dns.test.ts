/**
 * The lab DNS of k8s/coredns/: the zone file checked by BIND's named-checkzone, the Corefile by
 * a parser that knows CoreDNS's plugin names (no CoreDNS binary here), and the zone's records
 * compared with hostsEntries() (the /etc/hosts source).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { hostsEntries } from '../../generator/model/hosts.js';
import { zoneFileName } from '../../generator/plan/k8s/coredns.js';
import { generatedLabCache } from '../support/generated.js';
import { describeE2e } from '../support/prereq.js';
import { CorefileError, parseCorefile } from './corefile.js';

const exec = promisify(execFile);
const LABS = ['labs/rpi-slurm/lab.yaml', 'labs/minimal/lab.yaml'];
const cache = generatedLabCache({ prefix: 'labgen-k8s-dns-' });
afterAll(() => cache.cleanupAll());

describeE2e('zone file of the lab domain', { commands: ['named-checkzone'] }, () => {
  it.each(LABS)('%s: named-checkzone accepts it', async (file) => {
    const g = await cache.get(file);
    const zone = g.path(`k8s/coredns/${zoneFileName(g.lab)}`);
    const { stdout } = await exec('named-checkzone', ['-k', 'fail', '-n', 'fail', g.lab.domain, zone]);
    expect(stdout).toMatch(/OK/);
  });
});

describe.each(LABS)('%s', (file) => {
  it('the zone has one A record per hosts entry, with the same address', async () => {
    const g = await cache.get(file);
    const zone = g.file(`k8s/coredns/${zoneFileName(g.lab)}`).contents;
    const records = [...zone.matchAll(/^(\S+)\s+IN A (\S+)$/gm)].map((m) => `${m[1]}.${g.lab.domain} ${m[2]}`).sort();
    const hosts = hostsEntries(g.lab).map((e) => `${e.names[0]} ${e.ip}`).sort();
    expect(records).toEqual(hosts);
  });

  it('the Corefile parses: known plugins only, the zone file served, upstream DNS forwarded', async () => {
    const g = await cache.get(file);
    const blocks = parseCorefile(g.file('k8s/coredns/Corefile').contents);
    const lab = blocks.find((b) => b.keys.some((k) => k.zone === g.lab.domain))!;
    expect(lab.directives.find((d) => d.name === 'file')?.args[0]).toBe(`/etc/coredns/${zoneFileName(g.lab)}`);
    const root = blocks.find((b) => b.keys.some((k) => k.zone === '.'))!;
    expect(root.directives.find((d) => d.name === 'forward')?.args).toEqual(['.', ...g.lab.network.upstreamDns]);
  });
});

describe('Corefile parser', () => {
  it('fails on an unknown directive, a stray brace and a directive outside a block', () => {
    expect(() => parseCorefile('.:53 {\n    forwad . 8.8.8.8\n}\n')).toThrow(/unknown directive forwad/);
    expect(() => parseCorefile('.:53 {\n    errors\n')).toThrow(CorefileError);
    expect(() => parseCorefile('errors\n')).toThrow(/outside a server block/);
    expect(() => parseCorefile('.:99999 {\n}\n')).toThrow(/bad port/);
  });

  it('accepts option blocks of a plugin', () => {
    const [b] = parseCorefile('example.org:1053 {\n  forward . 1.1.1.1 {\n    max_fails 3\n  }\n  cache 30\n}\n');
    expect(b!.directives.map((d) => d.name)).toEqual(['forward', 'cache']);
    expect(b!.directives[0]!.options).toEqual([['max_fails', '3']]);
  });
});
