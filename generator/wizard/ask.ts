import { checkbox, input, number, select } from '@inquirer/prompts';
import { EXIT, LabgenError, LabValidationError } from '../errors.js';
import { labProblems, refusals, refusalText } from './check.js';
import { flagName, INIT_FLAGS, type QuestionKey } from './flags.js';
import { type Answers, asked, complete, QUESTION, QUESTIONS } from './questions.js';

/**
 * Flags first; a prompt only for what the flags left out, and only on a terminal. `--yes` takes
 * the default of every question not given (the seed lab). Nothing here writes anything.
 */

export interface AskOptions {
  /** each question's flag as typed, by key (`--pi-ip 10.0.0.2` → { piIp: '10.0.0.2' }) */
  flags: Partial<Record<QuestionKey, string>>;
  yes?: boolean;
  /** there is a terminal to prompt on */
  interactive: boolean;
  /** where the prompts read and write (tests); default the process's stdin and stdout */
  context?: Context;
}

/** Where a prompt reads and writes (@inquirer's context). */
export type Context = NonNullable<Parameters<typeof input>[1]>;

/** A prompt ready to run: the @inquirer function, its config, and how its result becomes the answer. */
export type Prompt =
  | { kind: 'input'; prompt: typeof input; config: Parameters<typeof input>[0]; answer(result: string): unknown }
  | { kind: 'number'; prompt: typeof number; config: Parameters<typeof number<true>>[0]; answer(result: number): unknown }
  | { kind: 'select'; prompt: typeof select<string>; config: Parameters<typeof select<string>>[0]; answer(result: string): unknown }
  | { kind: 'checkbox'; prompt: typeof checkbox<string>; config: Parameters<typeof checkbox<string>>[0]; answer(result: string[]): unknown };

/** Every choice on screen up to a point (the services are ten): more scroll. */
const pageSize = (choices: number) => Math.min(Math.max(choices, 7), 15);

/** A reason short enough to sit beside a choice: without its path, up to its first clause. */
const briefly = (problem: string) => problem.replace(/^[^\s:]+: /, '').split(/[,;(]/)[0]!.trim();

const validation = (problems: string[]): string | true => (problems.length ? refusalText(problems) : true);

/** The prompt of one question, its answers checked live against the answers settled so far. */
export function promptFor(key: QuestionKey, settled: Partial<Answers>): Prompt {
  const q = QUESTION[key];
  const a = complete(settled);
  const byDefault = a[key];
  switch (q.kind) {
    case 'input': {
      const parse = (text: string) => q.parse(text);
      return {
        kind: 'input',
        prompt: input,
        config: {
          message: q.message,
          default: q.show(byDefault),
          validate: (text) => {
            const p = parse(text);
            return p.ok ? validation(refusals(key, p.value, settled)) : p.reason;
          },
        },
        answer: (text) => {
          const p = parse(text);
          if (!p.ok) throw new Error(`${key}: the prompt let through ${JSON.stringify(text)}: ${p.reason}`);
          return p.value;
        },
      };
    }
    case 'number':
      return {
        kind: 'number',
        prompt: number,
        config: {
          message: q.message,
          default: byDefault as number,
          required: true,
          validate: (n) => (n === undefined ? 'a whole number, please' : validation(refusals(key, n, settled))),
        },
        answer: (n) => n,
      };
    case 'select': {
      // a choice the model refuses is shown, disabled, with its reason
      const choices = q.choices!(a).map((c) => {
        const problems = refusals(key, c.value, settled);
        return { value: c.value, name: c.name, short: c.value, disabled: problems.length ? `(${briefly(problems[0]!)})` : false };
      });
      const enabled = choices.filter((c) => !c.disabled);
      if (enabled.length === 0)
        throw new LabgenError(EXIT.badInput, `${flagName(key)}: no choice fits the answers so far:\n${choices.map((c) => `  - ${c.value} ${c.disabled}`).join('\n')}`);
      const preferred = enabled.some((c) => c.value === byDefault) ? byDefault : enabled[0]!.value;
      const config = { message: q.message, choices, default: preferred, pageSize: pageSize(choices.length) };
      return { kind: 'select', prompt: select<string>, config, answer: (v) => v };
    }
    case 'checkbox': {
      const picked = byDefault as string[];
      const choices = q.choices!(a).map((c) => ({ value: c.value, name: c.name, short: c.value, checked: picked.includes(c.value) }));
      return {
        kind: 'checkbox',
        prompt: checkbox<string>,
        config: {
          message: q.message,
          choices,
          pageSize: pageSize(choices.length),
          validate: (cs) => validation(refusals(key, cs.map((c) => c.value), settled)),
        },
        answer: (vs) => vs,
      };
    }
  }
}

async function run(p: Prompt, context?: Context): Promise<unknown> {
  switch (p.kind) {
    case 'input':
      return p.answer(await p.prompt(p.config, context));
    case 'number':
      return p.answer(await p.prompt(p.config, context));
    case 'select':
      return p.answer(await p.prompt(p.config, context));
    case 'checkbox':
      return p.answer(await p.prompt(p.config, context));
  }
}

const usage = (message: string, hint?: string) => new LabgenError(EXIT.badInput, message, { hint });
const indent = (problems: string[]) => refusalText(problems, 6).replace(/^/gm, '    ');

/** Every flag's text → its answer; every flag that is not understood, at once. */
function parseFlags(flags: AskOptions['flags']): Partial<Answers> {
  const given: Partial<Answers> = {};
  const errors: string[] = [];
  for (const q of QUESTIONS) {
    const raw = flags[q.key];
    if (raw === undefined) continue;
    const p = q.parse(raw);
    if (p.ok) (given as Record<string, unknown>)[q.key] = p.value;
    else errors.push(`  ${flagName(q.key)} ${JSON.stringify(raw)}: ${p.reason}`);
  }
  if (errors.length) throw usage(`invalid flag value:\n${errors.join('\n')}`, 'see `labgen init --help`');
  return given;
}

/**
 * Every flag checked by the model before anything is asked: a bad flag stops init before the
 * first prompt. On a terminal without --yes the questions without a flag are still open (what
 * clashes with their defaults is shown at their prompt); otherwise they are their defaults.
 */
function checkFlags(given: Partial<Answers>, othersOpen: boolean): void {
  const errors: string[] = [];
  const a = complete(given);
  for (const q of QUESTIONS) {
    if (!(q.key in given) || !asked(q, a)) continue;
    const { [q.key]: value, ...rest } = given;
    const problems = refusals(q.key, value, rest, { nothingOpen: !othersOpen });
    if (problems.length) errors.push(`  ${flagName(q.key)} ${q.show(value as never)}:\n${indent(problems)}`);
  }
  if (errors.length) throw usage(`these flags do not make a valid lab:\n${errors.join('\n')}`, 'fix the flags named above');
}

function missingAnswers(missing: QuestionKey[], a: Answers): LabgenError {
  const width = Math.max(...missing.map((k) => INIT_FLAGS[k].flag.length));
  const lines = missing.map((k) => `  ${INIT_FLAGS[k].flag.padEnd(width)}  ${INIT_FLAGS[k].help} (default: ${QUESTION[k].show(a[k] as never)})`);
  return usage(
    `no terminal to ask on, and these questions have no answer:\n${lines.join('\n')}`,
    `give them as flags, e.g. \`labgen init ${missing.map((k) => `${flagName(k)} …`).slice(0, 2).join(' ')}\`, or add --yes to take the defaults shown (the seed lab)`,
  );
}

/** Every answer: from flags, else a prompt (on a terminal), else the default (--yes). */
export async function ask(opts: AskOptions): Promise<Answers> {
  const given = parseFlags(opts.flags);
  checkFlags(given, opts.interactive && !opts.yes);

  const settled: Partial<Answers> = { ...given };
  const set = (k: QuestionKey, v: unknown) => ((settled as Record<string, unknown>)[k] = v);
  const errors: string[] = [];
  const reported = new Set<string>();
  const missing: QuestionKey[] = [];
  for (const q of QUESTIONS) {
    const a = complete(settled);
    if (q.key in given || !asked(q, a)) continue;
    if (opts.yes) {
      const problems = refusals(q.key, a[q.key], settled).filter((p) => !reported.has(p));
      problems.forEach((p) => reported.add(p));
      if (problems.length)
        errors.push(`  ${flagName(q.key)}: the default ${q.show(a[q.key] as never)} does not fit; give ${flagName(q.key)}:\n${indent(problems)}`);
      set(q.key, a[q.key]);
    } else if (!opts.interactive) {
      missing.push(q.key);
      set(q.key, a[q.key]);
    } else {
      set(q.key, await run(promptFor(q.key, settled), opts.context));
    }
  }
  const answers = complete(settled);
  for (const q of QUESTIONS)
    if (q.key in given && !asked(q, answers)) process.stderr.write(`labgen: warning: ${flagName(q.key)} is not used: that question is not asked with these answers\n`);
  if (errors.length) throw usage(`the defaults do not make a valid lab with these flags:\n${errors.join('\n')}`, 'give the flags named above');
  if (missing.length) throw missingAnswers(missing, answers);
  // every problem was some question's to refuse; this is the model's last word on the whole lab
  const problems = labProblems(answers);
  if (problems.length) throw new LabValidationError('the answers', problems);
  return answers;
}

/** The error @inquirer throws when the user presses Ctrl+C (or the terminal goes away) at a prompt. */
export function isPromptExit(e: unknown): boolean {
  return e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError');
}
