import { KNOWN_HOSTS, SECRETS_DIR } from '../common/layout.js';
import { EXIT, LabgenError } from '../errors.js';
import { KNOWN_HOSTS_ENTRY } from '../secrets/store.js';
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
