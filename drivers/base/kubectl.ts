import { shellQuote } from '../../generator/common/quote.js';

/** `kubectl --kubeconfig=FILE ARGS…` as a script for a Runner: the lab's admin kubeconfig, never the user's current context. */
export const kubectlScript = (kubeconfig: string, args: readonly string[]) => ['kubectl', `--kubeconfig=${kubeconfig}`, ...args].map(shellQuote).join(' ');
