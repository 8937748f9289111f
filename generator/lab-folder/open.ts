import { dirname, resolve } from 'node:path';
import { EXIT, LabgenError } from '../errors.js';
import type { Lab } from '../model/defaults.js';
import { loadLab, parseLabYaml } from '../model/load.js';
import { type PiFacts, planWithFacts } from '../plan/index.js';
import { loadSecrets, type SecretsResult, vmIdentities } from '../secrets/store.js';
import { findDebris, interruptedRemovals } from '../writer/debris.js';
import { type Decision, decide, forced } from '../writer/decide.js';
import { readKeep, withKept } from '../writer/keep.js';
import { type Manifest, readManifest } from '../writer/manifest.js';
import { KEEP, KNOWN_HOSTS, MANIFEST, SECRETS_DIR } from '../common/layout.js';

/**
 * The lab folder as labgen finds it, everything decided and nothing written: lab.yaml loaded,
 * the secrets read (the missing ones made in memory), the plan, a decision per file, the temp
 * files an interrupted run left. Every command that reads the lab folder starts here (generate, init,
 * push, status), and so do the benches and tests; commit.ts writes what generate decides.
 */
export interface LabFolder {
  labFile: string;
  /** lab.yaml's text to write with the folder (init), when it is not on disk yet */
  labText?: string;
  labDir: string;
  lab: Lab;
  secrets: SecretsResult;
  manifest: Manifest;
  /** .labgen/keep: the files the user keeps as edited by hand */
  keep: Set<string>;
  decisions: Decision[];
  /** per Pi, what the drivers need besides its files (the plan's facts: network files, apply command, secrets, services) */
  pis: Map<string, PiFacts>;
  /** temp files an interrupted labgen left (removed by the next commit) */
  debris: string[];
  /** files an interrupted run was removing (its journal): their folders are pruned by the next commit */
  removedBefore: string[];
}

export interface OpenOptions {
  /** overwrite hand edits (kept ones too) */
  force?: boolean;
  /** make the lab's secrets anew when they are lost (a new identity) */
  newSecrets?: boolean;
  /** lab.yaml's text when it is not on disk yet (init): committed with the lab folder, in one transaction */
  labText?: string;
}

/**
 * A lab folder whose manifest records secrets that are gone was carried without them: making
 * new ones would mint a new identity the Pis and VMs do not know. Stop, unless asked to.
 */
function refuseLostSecrets(labFile: string, lost: readonly string[], opts: OpenOptions): void {
  if (!lost.length || opts.newSecrets) return;
  throw new LabgenError(EXIT.badInput, `${labFile}: the lab's secrets are missing: ${lost.map((f) => `${SECRETS_DIR}/${f}`).join(', ')}`, {
    hint:
      'labgen generated this folder with them before (its manifest says so). Bring them back: ' +
      '`labgen export --with-secrets` on the machine that has them, then unzip here; or make a new identity with ' +
      '`labgen generate --new-secrets` (every Pi must then be flashed again or re-adopted, and the VMs rebuilt and rejoined)',
  });
}

/** labgen's own files and the secrets: with the planned files, the folders temp files are left in. */
const labgenPaths = (secretNames: readonly string[]) => [MANIFEST, KEEP, KNOWN_HOSTS, ...secretNames.map((n) => `${SECRETS_DIR}/${n}`)];

export function openLabFolder(lab: string, opts: OpenOptions = {}): LabFolder {
  const labFile = resolve(lab);
  const labDir = dirname(labFile);
  const model = opts.labText === undefined ? loadLab(labFile) : parseLabYaml(opts.labText, labFile);
  const manifest = readManifest(labDir);
  // a new lab folder records nothing yet; an old manifest (no list) has its secrets inferred
  const recorded = manifest.size === 0 && !manifest.secrets ? [] : manifest.secrets;
  // the Pis and the VMs get their SSH host keys here too
  const secrets = loadSecrets(labDir, model.name, model.pis.nodes, { recorded, vms: vmIdentities(model) });
  refuseLostSecrets(labFile, secrets.lost, opts);
  const { keep } = readKeep(labDir);
  const planned = planWithFacts(model, secrets.secrets);
  const raw = withKept(decide(labDir, planned.files, manifest), keep, manifest);
  const decisions = opts.force ? raw.map(forced) : raw;
  const debris = findDebris(labDir, [...decisions.map((d) => d.path), ...manifest.keys(), ...labgenPaths(secrets.names)]);
  const labText = opts.labText === undefined ? {} : { labText: opts.labText };
  const removedBefore = debris.length ? interruptedRemovals(labDir) : [];
  return { labFile, ...labText, labDir, lab: model, secrets, manifest, keep, decisions, pis: planned.pis, debris, removedBefore };
}

/** Files that would be written or removed, and conflicts; not identical or kept ones. */
export const changes = (ds: readonly Decision[]) => ds.filter((d) => d.action !== 'identical' && d.action !== 'kept');

/** Kept files that miss a change labgen made since they were kept. */
export const staleKept = (ds: readonly Decision[]) => ds.filter((d) => d.action === 'kept' && d.stale);

