import { join } from 'node:path';
import { KNOWN_HOSTS, SECRETS_DIR } from '../../generator/common/layout.js';
import { EXIT, LabgenError } from '../../generator/errors.js';
import { authorizedKeys } from '../../generator/lab-folder/authorized-keys.js';
import { type LabFolder, openLabFolder } from '../../generator/lab-folder/open.js';
import type { FileSpec } from '../../generator/plan/file-spec.js';
import type { ImageIdentity } from '../../generator/plan/image/index.js';
import type { PiFacts, PiOs } from '../../generator/plan/pi/part.js';
import { KnownHostsFile } from '../base/known-hosts.js';

/**
 * What `labgen image` starts from, as push does (drivers/push/targets.ts): the lab folder
 * opened, up to date with lab.yaml, and per Pi what goes into its image: its facts, its
 * identity (name, user, the keys that may log in, its host key) and its files as the folder
 * holds them (a kept hand edit is baked in as kept).
 */

export interface ImageJob {
  node: string;
  facts: PiFacts;
  /** the release lab.yaml asks for, and the field that says so (`pis.os`, `pis.nodes[2].os`) */
  os: PiOs;
  osField: string;
  identity: ImageIdentity;
  files: FileSpec[];
}

export interface ImageJobs {
  labDir: string;
  jobs: ImageJob[];
  /** the pins the images' host keys must match */
  knownHosts: KnownHostsFile;
}

/**
 * The Pis' files, refusing a lab folder that is not what lab.yaml makes (the image bakes in what
 * generate wrote), as push does (exit 1: the folder is behind, the input is not wrong).
 */
function piFiles(p: LabFolder, nodes: string[]): FileSpec[] {
  const mine = p.decisions.filter((d) => d.spec?.kind === 'pi' && nodes.includes(d.spec.host ?? ''));
  const stale = mine.filter((d) => d.action !== 'identical' && d.action !== 'kept');
  // an image needs every secret, its host key pinned in known_hosts too: that pin is how labgen knows the Pi once it boots
  const missing = p.secrets.missing;
  if (stale.length || missing.length) {
    const what = [...stale.map((d) => `${d.path} (${d.action})`), ...missing.map((m) => `${SECRETS_DIR}/${m} (missing)`)];
    throw new LabgenError(EXIT.failure, `the lab folder is out of date with lab.yaml; no image was made:\n${what.map((w) => `  ${w}`).join('\n')}`, {
      hint: 'run `labgen generate` first (an image holds the files it writes)',
    });
  }
  return mine.map((d) => (d.action === 'kept' && d.current !== undefined ? { ...d.spec!, contents: d.current } : d.spec!));
}

/** The Pis named (every Pi when none is), each with what its image needs. */
export function loadImageJobs(opts: { lab: string }, nodes: string[]): ImageJobs {
  const p = openLabFolder(opts.lab);
  const all = p.lab.pis.nodes.map((n) => n.name);
  const unknown = nodes.filter((n) => !all.includes(n));
  if (unknown.length)
    throw new LabgenError(EXIT.badInput, `not a Pi of this lab: ${unknown.join(', ')}`, { hint: `the lab's Pis: ${all.join(', ') || '(none)'}` });
  const chosen = nodes.length ? [...new Set(nodes)] : all;
  const files = piFiles(p, chosen);
  const keys = authorizedKeys(p.labDir, p.secrets.secrets.sshKey.public, p.lab.pis.authorizedKeys);
  const jobs = chosen.map((node): ImageJob => {
    const index = p.lab.pis.nodes.findIndex((n) => n.name === node);
    const facts = p.pis.get(node)!;
    return {
      node,
      facts,
      os: facts.os,
      osField: p.lab.pis.nodes[index]!.os ? `pis.nodes[${index}].os` : 'pis.os',
      identity: {
        node,
        hostname: node,
        user: p.lab.pis.user,
        authorizedKeys: keys,
        hostKey: p.secrets.hostKeys[node]!,
        labName: p.lab.name,
      },
      files: files.filter((f) => f.host === node),
    };
  });
  return { labDir: p.labDir, jobs, knownHosts: new KnownHostsFile(join(p.labDir, KNOWN_HOSTS)) };
}
