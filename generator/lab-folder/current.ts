import { KNOWN_HOSTS, SECRETS_DIR } from '../common/layout.js';
import { EXIT, LabgenError } from '../errors.js';
import { KNOWN_HOSTS_ENTRY } from '../secrets/store.js';
import type { FileSpec } from '../plan/file-spec.js';
import type { Decision } from '../writer/decide.js';
import type { LabFolder } from './open.js';

/**
 * A driver delivers what `labgen generate` wrote (push: a Pi's files; up: the VMs' files and
 * k8s/; adopt: a Pi's keys), so what it delivers must be up to date with lab.yaml: each of
 * `mine` identical or kept (a kept hand edit is delivered as kept), and the secrets on disk.
 * Anything else stops the driver before it touches a machine, naming each file (exit 1, as
 * `generate --check` does). `pins`: every host pinned in .labgen/known_hosts too.
 */
export function requireCurrent(p: LabFolder, mine: readonly Decision[], o: { nothing: string; why: string; pins?: boolean }): void {
  const stale = mine.filter((d) => d.action !== 'identical' && d.action !== 'kept');
  // without `pins`, a Pi without a pin is fine: push refuses it as unknown, or records it with --trust-new
  const secrets = p.secrets.missing.filter((m) => o.pins || m !== KNOWN_HOSTS_ENTRY);
  if (!stale.length && !secrets.length) return;
  const what = [
    ...stale.map((d) => `${d.path} (${d.action})`),
    ...secrets.map((m) => (m === KNOWN_HOSTS_ENTRY ? `${KNOWN_HOSTS} (pins missing)` : `${SECRETS_DIR}/${m} (missing)`)),
  ];
  throw new LabgenError(EXIT.failure, `the lab folder is out of date with lab.yaml; ${o.nothing}:\n${what.map((w) => `  ${w}`).join('\n')}`, {
    hint: `run \`labgen generate\` first (${o.why})`,
  });
}

/** The Pis a command names, each once (every Pi of the lab when none is); a name lab.yaml lacks is bad input. */
export function chosenPis(p: LabFolder, nodes: readonly string[]): string[] {
  const all = p.lab.pis.nodes.map((n) => n.name);
  const unknown = nodes.filter((n) => !all.includes(n));
  if (unknown.length)
    throw new LabgenError(EXIT.badInput, `not a Pi of this lab: ${unknown.join(', ')}`, { hint: `the lab's Pis: ${all.join(', ') || '(none)'}` });
  return nodes.length ? [...new Set(nodes)] : all;
}

/** The Pis' files as the lab folder holds them (a kept hand edit as kept), once `requireCurrent` says the folder is current. */
export function currentPiFiles(p: LabFolder, nodes: readonly string[], o: Parameters<typeof requireCurrent>[2]): FileSpec[] {
  const mine = p.decisions.filter((d) => d.spec?.kind === 'pi' && nodes.includes(d.spec.host ?? ''));
  requireCurrent(p, mine, o);
  return mine.map((d) => (d.action === 'kept' && d.current !== undefined ? { ...d.spec!, contents: d.current } : d.spec!));
}
