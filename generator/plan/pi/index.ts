import { octal } from '../../common/text.js';
import type { Lab } from '../../model/defaults.js';
import { aptCache } from './apt-cache.js';
import { type FileSpec, MODE } from '../file-spec.js';
import { nodeExporter } from './node-exporter.js';
import { PI_STAGE, type PiContext, type PiFacts, type PiFile, type PiPart, type PiPlanner, piContexts } from './part.js';
import { piHosts } from './hosts.js';
import { applyNetwork, piNetwork } from './network.js';
import { shellQuote } from '../../common/quote.js';
import { render } from '../support/render.js';
import { slurmPi } from './slurm.js';
import { storage } from './storage.js';

/**
 * pis/<node>/: each Pi's files at their absolute path under rootfs/ (boot/ for the image's boot
 * partition) and its setup.sh, merged from one planner per concern.
 */
const PARTS: PiPlanner[] = [piNetwork, piHosts, aptCache, storage, slurmPi, nodeExporter];

function merge(parts: PiPart[]) {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return {
    files: parts.flatMap((p) => p.files ?? []).sort((a, b) => (a.path < b.path ? -1 : 1)),
    bootFiles: parts.flatMap((p) => p.bootFiles ?? []),
    secrets: parts.flatMap((p) => p.secrets ?? []),
    packages: uniq(parts.flatMap((p) => p.packages ?? [])),
    services: uniq(parts.flatMap((p) => p.services ?? [])),
    networkFiles: parts.filter((p) => p.network).flatMap((p) => (p.files ?? []).map((f) => f.path)),
    firstBootFiles: uniq(parts.filter((p) => p.firstBoot).flatMap((p) => (p.files ?? []).map((f) => f.path))),
  };
}

/** service → the files whose change restarts it, in a stable order */
function restarts(files: { path: string; restart?: string[] }[]): [string, string[]][] {
  const by = new Map<string, string[]>();
  for (const f of files) for (const s of f.restart ?? []) by.set(s, [...(by.get(s) ?? []), f.path]);
  return [...by].sort(([a], [b]) => (a < b ? -1 : 1));
}

/** setup.sh's `install -m` mode, with the leading 0 */
const installMode = (mode: number) => `0${octal(mode)}`;

function setupScript(ctx: PiContext, m: ReturnType<typeof merge>): string {
  return render('pis/setup.sh', {
    lab: ctx.lab,
    node: ctx.node,
    os: ctx.os,
    osPath: ctx.node.os ? `pis.nodes[${ctx.index}].os` : 'pis.os',
    packages: m.packages,
    services: m.services,
    files: m.files.map((f) => ({ ...f, mode: installMode(f.mode) })),
    secrets: m.secrets.map((s) => ({ ...s, mode: installMode(s.mode) })),
    restarts: restarts([...m.files, ...m.secrets]),
    networkFiles: m.networkFiles,
    unitFiles: m.files.filter((f) => f.path.startsWith('/etc/systemd/system/')).map((f) => f.path),
    applyNetwork: applyNetwork(ctx),
    q: shellQuote,
  });
}

function rootfsSpec(node: string, dir: 'rootfs' | 'boot', f: PiFile): FileSpec {
  return {
    path: `pis/${node}/${dir}${f.path}`,
    // read through, not copied: a part may make its contents when read (hosts.ts)
    get contents() {
      return f.contents;
    },
    mode: f.mode,
    kind: 'pi',
    host: node,
    target: { path: f.path, owner: f.owner ?? 'root:root', restart: f.restart ?? [] },
  };
}

/** What the drivers need of a Pi besides its files (part.ts), from the same merge as its setup.sh. */
function piFacts(ctx: PiContext, m: ReturnType<typeof merge>): PiFacts {
  return {
    node: ctx.node.name,
    ip: ctx.node.ip,
    user: ctx.lab.pis.user,
    os: ctx.os,
    networkFiles: m.networkFiles,
    firstBootFiles: m.firstBootFiles,
    applyNetwork: applyNetwork(ctx),
    secrets: [...new Set(m.secrets.map((s) => s.secret))],
    services: m.services,
    stage: PI_STAGE,
  };
}

/** Every Pi's files; each Pi's facts go into `facts` when given (in lab order). */
export function planPis(lab: Lab, facts?: Map<string, PiFacts>): FileSpec[] {
  return piContexts(lab).flatMap((ctx) => {
    const m = merge(PARTS.map((part) => part(ctx)));
    const name = ctx.node.name;
    facts?.set(name, piFacts(ctx, m));
    return [
      ...m.files.map((f) => rootfsSpec(name, 'rootfs', f)),
      ...m.bootFiles.map((f) => rootfsSpec(name, 'boot', f)),
      { path: `pis/${name}/setup.sh`, contents: setupScript(ctx, m), mode: MODE.script, kind: 'pi' as const, host: name },
    ];
  });
}
