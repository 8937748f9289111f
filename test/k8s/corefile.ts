/**
 * A small Corefile parser for tests: server blocks (`zone[:port] { ... }`), one directive per
 * line, optional nested option blocks. It fails on what CoreDNS would refuse at start: an
 * unknown plugin name (CoreDNS's plugin.cfg list), unbalanced braces, a directive outside a
 * server block, a malformed server address.
 */

/** The plugins compiled into CoreDNS (plugin.cfg of CoreDNS 1.12). */
export const COREDNS_PLUGINS = new Set([
  'root', 'metadata', 'geoip', 'cancel', 'tls', 'timeouts', 'multisocket', 'reload', 'nsid', 'bufsize', 'bind', 'debug', 'trace',
  'ready', 'health', 'pprof', 'prometheus', 'errors', 'log', 'dnstap', 'local', 'dns64', 'acl', 'any', 'chaos', 'loadbalance',
  'tsig', 'cache', 'rewrite', 'header', 'dnssec', 'autopath', 'minimal', 'template', 'transfer', 'hosts', 'route53', 'azure',
  'clouddns', 'k8s_external', 'kubernetes', 'file', 'auto', 'secondary', 'etcd', 'loop', 'forward', 'grpc', 'erratic', 'whoami',
  'on', 'sign', 'view', 'nomad', 'import',
]);

export interface Directive {
  name: string;
  args: string[];
  /** lines of its option block, if it has one */
  options: string[][];
}

export interface ServerBlock {
  keys: { zone: string; port: number }[];
  directives: Directive[];
}

export class CorefileError extends Error {}

function tokens(line: string): string[] {
  return line.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
}

function serverKey(key: string, line: number): { zone: string; port: number } {
  const m = /^(?:dns:\/\/)?([a-z0-9.-]*\.?|\.)(?::(\d+))?$/i.exec(key);
  if (!m || !m[1]) throw new CorefileError(`line ${line}: bad server address ${key}`);
  const port = m[2] ? Number(m[2]) : 53;
  if (port < 1 || port > 65535) throw new CorefileError(`line ${line}: bad port in ${key}`);
  return { zone: m[1], port };
}

export function parseCorefile(text: string): ServerBlock[] {
  const blocks: ServerBlock[] = [];
  let block: ServerBlock | undefined;
  let directive: Directive | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const t = tokens(raw);
    if (t.length === 0) return;
    const opens = t[t.length - 1] === '{';
    const body = opens ? t.slice(0, -1) : t;
    if (t.length === 1 && t[0] === '}') {
      if (directive) directive = undefined;
      else if (block) block = undefined;
      else throw new CorefileError(`line ${line}: } without a block`);
      return;
    }
    if (!block) {
      if (!opens) throw new CorefileError(`line ${line}: "${t.join(' ')}" outside a server block`);
      block = { keys: body.map((k) => serverKey(k, line)), directives: [] };
      blocks.push(block);
      return;
    }
    if (directive) {
      if (opens) throw new CorefileError(`line ${line}: nested block too deep`);
      directive.options.push(body);
      return;
    }
    const [name, ...args] = body;
    if (!COREDNS_PLUGINS.has(name!)) throw new CorefileError(`line ${line}: unknown directive ${name}`);
    const d: Directive = { name: name!, args, options: [] };
    block.directives.push(d);
    if (opens) directive = d;
  });
  if (block || directive) throw new CorefileError('unclosed block at end of file');
  const seen = new Set<string>();
  for (const b of blocks)
    for (const k of b.keys) {
      const id = `${k.zone.replace(/\.$/, '')}:${k.port}`;
      if (seen.has(id)) throw new CorefileError(`server ${id} defined twice`);
      seen.add(id);
    }
  return blocks;
}
