import { CommandError, failureLines, failureOf } from '../../drivers/base/failure.js';
import { progressFor } from '../../drivers/base/progress.js';
import { humanSize } from '../../drivers/image/build.js';
import { checkInputs, type ImageResult, makeImages } from '../../drivers/image/image.js';
import { loadImageJobs } from '../../drivers/image/jobs.js';
import { type Io, ioOf } from '../common/io.js';
import { EXIT, LabgenError } from '../errors.js';
import { promptConfirm } from './confirm.js';

/** `labgen image NODE... --base IMG`: per Pi, an image that boots into its lab identity (drivers/image/ does the work). */

export interface ImageCommandOptions {
  lab: string;
  base: string;
  out?: string;
  device?: string;
  force?: boolean;
  yes?: boolean;
  /** for in-process callers (tests): where output goes */
  io?: Partial<Io>;
  /** for in-process callers: the question before a card is written (default: an @inquirer/prompts confirm) */
  confirm?: (message: string) => Promise<boolean>;
}

export async function imageCommand(nodes: string[], opts: ImageCommandOptions): Promise<number> {
  const io = ioOf(opts.io);
  const jobs = loadImageJobs(opts, nodes);
  if (jobs.jobs.length === 0) {
    io.out('no Pis in this lab: no image to make');
    return EXIT.ok;
  }
  const checked = await checkInputs(jobs, opts);
  if (checked.device && !opts.yes) {
    if (!io.tty)
      throw new LabgenError(EXIT.badInput, `writing ${checked.device.description} erases it; without a terminal to ask on, --yes says so`, {
        hint: `labgen image ${jobs.jobs[0]!.node} --base ${opts.base} --device ${opts.device} --yes`,
      });
    const ask = opts.confirm ?? promptConfirm;
    const message = `Write ${jobs.jobs[0]!.node}'s image (${humanSize(checked.size)}) to ${checked.device.description}? Everything on it is lost.`;
    if (!(await ask(message))) {
      io.err('labgen: not written: nothing was made');
      return EXIT.failure;
    }
  }
  const progress = progressFor(jobs.jobs.map((j) => j.node), io.tty, io.out);
  let results: ImageResult[];
  try {
    results = await makeImages(jobs, checked, { ...opts, progress, live: io.tty });
  } catch (e) {
    await progress.end();
    if (!(e instanceof CommandError)) throw e;
    io.err('labgen: image failed');
    for (const l of failureLines(failureOf(e, e.host, e.step))) io.err(`  ${l}`);
    return EXIT.failure;
  }
  await progress.end();
  io.out('');
  for (const r of results) {
    io.out(`${r.node}: ${r.path} (${r.release}, ${humanSize(r.size)}, ${humanSize(r.allocated)} on disk)`);
    if (r.device) io.out(`${r.node}: written to ${r.device} and read back: identical`);
  }
  return EXIT.ok;
}
