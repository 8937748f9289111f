/**
 * The labgen test box (box/build-box.sh), built once per recipe and kept: the cache folder
 * holds one box per hash of the recipe's files, and a lock (flock) makes test processes that
 * need it at the same time wait for the one that builds it. A changed recipe builds anew;
 * boxes of other recipes are removed once unused for a day.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLogged, tail } from './proc.js';

/** The box's name in Vagrant (`config.vm.box`, lab.yaml's cluster.box). */
export const VM_BED_BOX = 'labgen-vmbed';

/**
 * The Kubernetes minor a lab on the bed pins (lab.yaml's cluster.kubernetesVersion), and the
 * version of the box's kubeadm, kubelet and kubectl stand-ins: the newest minor that the box's
 * containerd fits. The box's containerd is Debian's newest (sid's 2.1), and containerd's table
 * (versions.ts) starts 1.36 and 1.37 at 2.2.0; 1.35 lists the 2.1 line.
 */
export const VM_BED_KUBERNETES = '1.35';

const RECIPE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'box');

/** Every file the box is made from, sorted (the stand-ins included). */
function recipeFiles(dir = RECIPE_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? recipeFiles(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** sha256 over the recipe's file names and contents (the first 16 hex digits). */
export function recipeHash(): string {
  const h = createHash('sha256');
  h.update(`kubernetes ${VM_BED_KUBERNETES}\0`);
  for (const f of recipeFiles()) h.update(`${f.slice(RECIPE_DIR.length)}\0`).update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Where boxes are kept between runs: $LABGEN_VMBED_CACHE, else a folder in the temp dir. */
export function boxCacheDir(): string {
  return process.env.LABGEN_VMBED_CACHE || join(tmpdir(), 'labgen-vmbed-cache');
}

/**
 * The path of the built box for the current recipe, building it first when it is not there
 * (about 3 minutes; `log` is the build's log file).
 */
export async function ensureBox(log: string): Promise<string> {
  const cache = boxCacheDir();
  const key = recipeHash();
  const box = join(cache, key, `${VM_BED_BOX}.box`);
  if (existsSync(box)) return box;
  await mkdir(join(cache, key), { recursive: true });
  // the lock: whoever holds it builds, the others find the box when they get it
  const r = await runLogged(
    'flock',
    [join(cache, `${key}.lock`), 'sh', '-c', 'test -f "$1" || bash "$2" "$1" "$3"', 'build-box', box, join(RECIPE_DIR, 'build-box.sh'), VM_BED_KUBERNETES],
    { logFile: log, timeoutMs: 20 * 60_000 },
  );
  if (r.code !== 0 || !existsSync(box)) throw new Error(`building the test box failed (exit ${r.code}); see ${log}:\n${tail(r.output)}`);
  await removeOtherBoxes(cache, key);
  return box;
}

/**
 * Boxes of other recipes (about 200 MB each) not built for a day: another checkout on the
 * same machine may be using a recent one.
 */
async function removeOtherBoxes(cache: string, key: string): Promise<void> {
  const stale = Date.now() - 24 * 3600_000;
  for (const e of readdirSync(cache, { withFileTypes: true })) {
    if (!e.isDirectory() || !/^[0-9a-f]{16}$/.test(e.name) || e.name === key) continue;
    if (statSync(join(cache, e.name)).mtimeMs > stale) continue;
    await rm(join(cache, e.name), { recursive: true, force: true });
    await rm(join(cache, `${e.name}.lock`), { force: true });
  }
}
