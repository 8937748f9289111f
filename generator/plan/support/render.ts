import { join } from 'node:path';
import ejs from 'ejs';
import { packageFile, TEMPLATES_DIR } from '../../paths.js';
import { marker, rubyQuote, shellQuote } from '../../common/quote.js';

type Template = (data: Record<string, unknown>) => string;
const cache = new Map<string, Template>();

/** `<%= %>` quotes for the output's language (a shell script by its shebang); plain text formats have nothing to quote. */
function escapeFor(output: string, source: string): (v: unknown) => string {
  if (/^#!.*\b(ba|da)?sh\b/.test(source)) return shellQuote;
  if (output === 'Vagrantfile') return rubyQuote;
  return (v) => String(v);
}

/**
 * Render templates/<name>.ejs. Templates are part of the program, read once and compiled once:
 * reading them is not lab input, so plans stay pure functions of (lab, secrets).
 * `verbatim`: the template's whitespace is the file's (no tidy pass), for a file whose blank
 * lines are its own (Python's two between functions) or must stay as they are.
 */
export function render(name: string, data: Record<string, unknown>, options: { verbatim?: boolean } = {}): string {
  let template = cache.get(name);
  if (!template) {
    const file = join(TEMPLATES_DIR, `${name}.ejs`);
    const source = packageFile(`templates/${name}.ejs`);
    template = ejs.compile(source, {
      filename: file,
      escape: escapeFor(name.split('/').pop()!, source),
      strict: true,
      localsName: 'it',
      // includes (templates/_partials) are compiled once too, not on every render
      cache: true,
      rmWhitespace: false,
    }) as Template;
    cache.set(name, template);
  }
  const text = template({ ...data, marker });
  return options.verbatim ? text : tidy(text);
}

/** LF endings, no trailing spaces, exactly one final newline: byte-stable output. */
export function tidy(text: string): string {
  return `${text.replace(/\r\n/g, '\n').replace(/[ \t]+(?=\n|$)/g, '').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
