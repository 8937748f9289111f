import { join } from 'node:path';
import { KNOWN_HOSTS } from '../../generator/common/layout.js';
import { authorizedKeys } from '../../generator/lab-folder/authorized-keys.js';
import { chosenPis, currentPiFiles } from '../../generator/lab-folder/current.js';
import { openLabFolder } from '../../generator/lab-folder/open.js';
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

/** The Pis named (every Pi when none is), each with what its image needs. */
export function loadImageJobs(opts: { lab: string }, nodes: string[]): ImageJobs {
  const p = openLabFolder(opts.lab);
  const chosen = chosenPis(p, nodes);
  // an image needs every secret and its host key pinned: that pin is how labgen knows the Pi once it boots
  const files = currentPiFiles(p, chosen, { nothing: 'no image was made', why: 'an image holds the files it writes', pins: true });
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
