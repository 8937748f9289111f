/**
 * What a Pi's generated setup.sh needs besides its rootfs/ copies, read from the script itself
 * (templates/pis/setup.sh.ejs) so push and status follow whatever the parts put in it:
 * - `install_file "$secrets"/NAME …`: the secrets it installs from secrets/ beside it;
 * - `ensure_running SERVICE`: the services it keeps enabled and running.
 * Names are shellQuote'd in the script; the ones labgen makes never need quotes, and a quoted
 * one is unquoted here.
 */

const unquote = (word: string) => (word.startsWith("'") && word.endsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word);

function words(script: string, re: RegExp): string[] {
  return [...new Set([...script.matchAll(re)].map((m) => unquote(m[1]!)))];
}

/** Secret file names setup.sh installs from its secrets/ folder. */
export function setupSecrets(script: string): string[] {
  return words(script, /^install_file "\$secrets"\/('(?:[^']|'\\'')*'|\S+)/gm);
}

/** Services setup.sh keeps enabled and running. */
export function setupServices(script: string): string[] {
  return words(script, /^ensure_running ('(?:[^']|'\\'')*'|\S+)$/gm);
}
