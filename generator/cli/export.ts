import * as archiverModule from 'archiver';
import { createWriteStream, existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';
import { loadLab } from '../model/load.js';
import { isSecretPath, K8S_SECRETS_DIR } from '../secrets/paths.js';
import { TEMP_NAME, tempPath } from '../common/atomic.js';
import { readManifest } from '../writer/manifest.js';
import { JOURNAL, KNOWN_HOSTS, MANIFEST, SECRETS_DIR } from '../common/layout.js';
import { EXPORTS_DIR, exportTool } from '../lab-folder/export-tools.js';

/**
 * `labgen export`: the lab folder as one zip, to carry to another machine (seed 003's laptop
 * runs Windows). Everything in the folder goes in except:
 * - .labgen/secrets/ (keys, tokens, passwords) and k8s/<folder>/secrets/ (labgen's copies of them
 *   for kustomize), unless --with-secrets;
 * - machine state and junk: .vagrant/, .git/, node_modules/, editor and OS litter, labgen's own
 *   temp files, other zips, disk images (a Pi image is rebuilt from the lab folder).
 * Entries are in a fixed order (a folder before its contents, names sorted), with a fixed date
 * and the file's mode (the manifest's mode for generated files, so scripts stay executable even
 * when exporting on Windows): the same folder gives the same zip, byte for byte.
 */

export interface ExportOptions {
  lab: string;
  out?: string;
  withSecrets?: boolean;
  /** instead of the zip: a kubespray-style Ansible inventory and its ssh_config (--out: a folder) */
  ansible?: boolean;
  /** instead of the zip: an OpenStack Terraform configuration of the VMs (--out: a folder) */
  terraform?: boolean;
}

/**
 * archiver 7 (CommonJS: module.exports is the factory) is what is installed; @types/archiver 8
 * describes archiver 8's class API, so the factory is taken from the namespace's default.
 */
type Factory = (format: 'zip', options?: archiverModule.ArchiverOptions) => archiverModule.Archiver;
const archiver = (archiverModule as unknown as { default: Factory }).default;

/** Folders never exported, with why (printed when one was left out). */
/** Top-level folders never exported, with why. */
const SKIP_TOP: Record<string, string> = {
  [EXPORTS_DIR]: 'labgen export --ansible/--terraform output: absolute paths of this machine, export again there',
};

const SKIP_DIRS: Record<string, string> = {
  '.vagrant': "Vagrant's machine state",
  '.git': 'git history',
  node_modules: 'installed packages',
  __pycache__: 'Python cache',
};

/** Files never exported. */
const JUNK: RegExp[] = [
  /^\.DS_Store$/,
  /^Thumbs\.db$/i,
  /^desktop\.ini$/i,
  /~$/,
  /^\.#/,
  /\.sw[po]$/,
  TEMP_NAME, // an interrupted write's temp file (common/atomic.ts), exactly as generate tells them
  /\.zip$/i,
  /\.(img|iso|vdi|vmdk|qcow2|box)(\.(xz|gz|zst))?$/i,
];

/** The date every entry carries (DOS dates start in 1980): no clock in the output. */
const FIXED_DATE = new Date(Date.UTC(1980, 0, 1));

interface Entry {
  name: string;
  abs: string;
  dir: boolean;
  mode: number;
}

interface Walk {
  entries: Entry[];
  skipped: Map<string, string>;
  /** files left out of each secrets folder, by folder */
  secrets: Map<string, number>;
}

/** A folder of secrets: .labgen/secrets/, or a k8s/<folder>/secrets/ (K8S_SECRET_PATH). */
const K8S_SECRETS_FOLDER = new RegExp(`^k8s/[^/]+/${K8S_SECRETS_DIR}$`);
const isSecretsFolder = (rel: string) => rel === SECRETS_DIR || K8S_SECRETS_FOLDER.test(rel);

function walk(labDir: string, opts: { withSecrets: boolean; out: string; modes: Map<string, number> }): Walk {
  const skipped = new Map<string, string>();
  const secrets = new Map<string, number>();
  const visit = (abs: string, rel: string): Entry[] => {
    const out: Entry[] = [];
    for (const name of readdirSync(abs).sort()) {
      const a = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(a);
      if (st.isDirectory()) {
        const skip = SKIP_DIRS[name] ?? (rel ? undefined : SKIP_TOP[name]);
        if (skip !== undefined) {
          skipped.set(`${r}/`, skip);
          continue;
        }
        const inner = visit(a, r);
        if (isSecretsFolder(r) && !opts.withSecrets) {
          secrets.set(`${r}/`, inner.filter((e) => !e.dir).length);
          continue;
        }
        // a folder is listed only when something in it is: no empty shells of what was left out
        if (inner.length) out.push({ name: `${r}/`, abs: a, dir: true, mode: st.mode & 0o777 }, ...inner);
      } else if (!st.isFile()) {
        skipped.set(r, st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file');
      } else if (a === opts.out) {
        continue;
      } else if (JUNK.some((re) => re.test(name)) || r === JOURNAL) {
        skipped.set(r, 'junk');
      } else {
        // generated files (the k8s/ secrets' copies too) keep the manifest's mode; .labgen/secrets/ is 0600
        const mode = opts.modes.get(r) ?? (isSecretPath(r) ? 0o600 : st.mode & 0o777);
        out.push({ name: r, abs: a, dir: false, mode });
      }
    }
    return out;
  };
  return { entries: visit(labDir, ''), skipped, secrets };
}

function labName(labFile: string, labDir: string): string {
  try {
    return loadLab(labFile).name;
  } catch {
    return basename(labDir); // a lab.yaml that does not validate is still worth carrying
  }
}

async function writeZip(entries: Entry[], out: string, mode: number): Promise<number> {
  const tmp = tempPath(out);
  try {
    const stream = createWriteStream(tmp, { mode });
    const zip = archiver('zip', { zlib: { level: 9 } });
    const done = new Promise<void>((ok, fail) => {
      stream.on('close', ok).on('error', fail);
      zip.on('error', fail).on('warning', fail);
    });
    zip.pipe(stream);
    for (const e of entries) {
      // append (not zip.file, which stats files concurrently and so may reorder them): entries go in as listed
      zip.append(e.dir ? '' : readFileSync(e.abs), { name: e.name, date: FIXED_DATE, mode: e.mode });
    }
    await zip.finalize();
    await done;
    renameSync(tmp, out);
    return statSync(out).size;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new LabgenError(EXIT.failure, `cannot write ${out}: ${(e as Error).message}`, { cause: e });
  }
}

/** "k8s/ (48), laptop/ (3), lab.yaml": what the zip holds, by top-level name. */
function contents(entries: Entry[]): string {
  const count = new Map<string, number>();
  for (const e of entries.filter((x) => !x.dir)) {
    const top = e.name.includes('/') ? `${e.name.split('/')[0]}/` : e.name;
    count.set(top, (count.get(top) ?? 0) + 1);
  }
  return [...count].map(([top, n]) => (top.endsWith('/') ? `${top} (${n})` : top)).join(', ');
}

const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KiB`);

/** --ansible or --terraform: the tool's files into a folder (lab-folder/export-tools.ts). */
function toolExport(labFile: string, opts: ExportOptions, io: Io): number {
  if (opts.ansible && opts.terraform)
    throw new LabgenError(EXIT.badInput, '--ansible and --terraform are two exports', { hint: 'run labgen export once for each' });
  if (opts.withSecrets)
    throw new LabgenError(EXIT.badInput, '--with-secrets is for the zip', { hint: 'the Ansible and Terraform exports name the secrets, they never copy them' });
  const tool = opts.ansible ? 'ansible' : 'terraform';
  const { dir, files } = exportTool(labFile, tool, opts.out);
  io.out(`wrote ${dir}/: ${files.join(', ')}`);
  io.out(
    tool === 'ansible'
      ? `  ansible-inventory -i ${join(dir, 'inventory.yaml')} --graph   (ssh checks every host key against ${KNOWN_HOSTS})`
      : `  cd ${dir} && terraform init && terraform apply   (credentials: OS_* or clouds.yaml; the other values: variables.tf)`,
  );
  return EXIT.ok;
}

export async function exportCommand(opts: ExportOptions, given: Partial<Io> = {}): Promise<number> {
  const io = ioOf(given);
  const labFile = resolve(opts.lab);
  const labDir = dirname(labFile);
  if (!existsSync(labFile))
    throw new LabgenError(EXIT.badInput, `no lab file at ${labFile}`, { hint: 'run it in the lab folder, or name the lab file with --lab FILE' });
  if (opts.ansible || opts.terraform) return toolExport(labFile, opts, io);
  const out = resolve(opts.out ?? join(dirname(labDir), `${labName(labFile, labDir)}.zip`));
  if (existsSync(out) && statSync(out).isDirectory())
    throw new LabgenError(EXIT.badInput, `${out} is a folder`, { hint: 'give --out the zip file to write, e.g. --out lab.zip' });
  if (!existsSync(join(labDir, MANIFEST)))
    io.err(`labgen: warning: ${labDir} was never generated (no ${MANIFEST}): the zip holds lab.yaml and what else is there`);

  const modes = new Map([...readManifest(labDir)].map(([p, e]) => [p, e.mode]));
  const { entries, skipped, secrets } = walk(labDir, { withSecrets: opts.withSecrets ?? false, out, modes });
  const withSecrets = entries.some((e) => !e.dir && isSecretPath(e.name));
  const size = await writeZip(entries, out, withSecrets ? 0o600 : 0o644);

  const files = entries.filter((e) => !e.dir);
  io.out(`wrote ${out} (${files.length} files, ${kib(size)}): ${contents(entries)}`);
  if (withSecrets)
    io.out(`  with ${SECRETS_DIR}/ and k8s/*/${K8S_SECRETS_DIR}/ (keys, tokens, passwords): keep the zip private`);
  const left: string[] = [];
  const labSecrets = secrets.get(`${SECRETS_DIR}/`) ?? 0;
  const k8sSecrets = [...secrets].filter(([dir]) => dir !== `${SECRETS_DIR}/`).reduce((n, [, c]) => n + c, 0);
  if (labSecrets) left.push(`${SECRETS_DIR}/ (${labSecrets} files: keys, tokens, passwords; --with-secrets includes them)`);
  if (k8sSecrets) left.push(`k8s/*/${K8S_SECRETS_DIR}/ (${k8sSecrets} files: copies of those for kustomize; --with-secrets includes them)`);
  for (const [path, why] of skipped) left.push(`${path} (${why})`);
  if (left.length) io.out(`  left out: ${left.join(', ')}`);
  return EXIT.ok;
}
