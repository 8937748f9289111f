import { LabValidationError } from '../errors.js';
import { validateLab } from '../model/load.js';
import type { QuestionKey } from './flags.js';
import { type Answers, asked, complete, QUESTION, QUESTIONS, toLab } from './questions.js';

/**
 * Each answer is checked live by the model's own rules: the lab so far (the answers settled, the
 * candidate, defaults for the rest) goes through validateLab, and the problems that are this
 * question's to fix become its refusal.
 *
 * Each question names the lab.yaml paths it decides (the first Pi IP decides `pis.nodes[N].ip`);
 * a problem (`path: message`) involves the questions that decide its path or a path its message
 * names. It is the current question's to fix
 *   - not when another question that is still open (not answered, no flag, going to be asked)
 *     is involved: that one can still fix it. A gateway typed as the default first Pi IP is
 *     accepted, and the clash is shown at the Pi IP, where an address is typed; a Pi IP typed
 *     as the gateway is refused there and then;
 *   - when it is involved itself;
 *   - when nothing involved is open and the problem is new: it is not there with this
 *     question at its default (60 Pis push the Pi IPs into the MetalLB pool).
 */

/** lab.yaml paths named in a message: "is already used by pis.nodes[1] (node02)" → pis.nodes[1].ip */
const MENTION = /(?<![\w.-])(?:network|cluster|pis|storage|services|slurm)(?:\.[A-Za-z]+|\[\d+\])+/g;

function mentions(message: string): string[] {
  return [...message.matchAll(MENTION)].map(([m]) =>
    /^pis\.nodes\[\d+\]$/.test(m) || m === 'cluster.controlPlane' ? `${m}.ip` : m,
  );
}

const owners = (path: string): QuestionKey[] => QUESTIONS.filter((x) => x.paths.some((re) => re.test(path))).map((x) => x.key);

/** Split `pis.nodes[0].ip: 10.0.0.1 is already used by network.gateway` at its first ": ". */
function splitProblem(problem: string): { path: string; message: string } {
  const i = problem.indexOf(': ');
  return i < 0 ? { path: '', message: problem } : { path: problem.slice(0, i), message: problem.slice(i + 2) };
}

const involved = (problem: string): QuestionKey[] => {
  const { path, message } = splitProblem(problem);
  return [path, ...mentions(message)].flatMap(owners);
};

/**
 * Whether `problem` is question `key`'s to fix (see above); `withDefault` says whether the lab
 * has it too with this question at its default.
 */
export function concerns(problem: string, key: QuestionKey, open: ReadonlySet<QuestionKey>, withDefault: () => boolean): boolean {
  const who = involved(problem);
  if (who.some((k) => k !== key && open.has(k))) return false;
  if (who.includes(key)) return true;
  return !withDefault();
}

/** Every problem of the lab these answers make ([] when valid). */
export function labProblems(a: Answers): string[] {
  try {
    validateLab(toLab(a), 'the answers');
    return [];
  } catch (e) {
    if (e instanceof LabValidationError) return e.problems;
    throw e;
  }
}

/**
 * Why `value` is refused as the answer to `key`, given the answers already settled (answered
 * or given as flags); [] when it is accepted. `nothingOpen`: the questions not settled take
 * their defaults (--yes, no terminal), so none of them can fix a problem later.
 */
export function refusals(key: QuestionKey, value: unknown, settled: Partial<Answers>, opts: { nothingOpen?: boolean } = {}): string[] {
  const q = QUESTION[key];
  const a = complete({ ...settled, [key]: value });
  const choices = q.choices?.(a).map((c) => c.value);
  if (choices) {
    const picked = Array.isArray(value) ? (value as string[]) : [value as string];
    const unknown = picked.filter((v) => !choices.includes(v));
    if (unknown.length) return [`${unknown.map((u) => JSON.stringify(u)).join(', ')}: choose from ${choices.join(', ')}`];
  }
  const own = q.check?.(value as never, a);
  if (own) return [own];
  const open = new Set(opts.nothingOpen ? [] : QUESTIONS.filter((x) => x.key !== key && !(x.key in settled) && asked(x, a)).map((x) => x.key));
  const problems = labProblems(a);
  let baseline: Set<string> | undefined;
  const withDefault = (p: string) => {
    if (!baseline) {
      const { [key]: _, ...others } = settled;
      baseline = new Set(labProblems(complete(others)));
    }
    return baseline.has(p);
  };
  return [...new Set(problems.filter((p) => concerns(p, key, open, () => withDefault(p))))];
}

/** Refusals as one message for a prompt: at most `max` lines. */
export function refusalText(problems: string[], max = 4): string {
  const shown = problems.slice(0, max);
  return problems.length > max ? [...shown, `(and ${problems.length - max} more)`].join('\n') : shown.join('\n');
}
