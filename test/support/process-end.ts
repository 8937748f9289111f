/**
 * Teardown that runs however a test process ends, for what tests start outside it (QEMU guests,
 * network namespaces, sshd): at 'exit'; on SIGINT, SIGTERM or SIGHUP (a signal's default action
 * ends the process without 'exit': Ctrl+C on a terminal reaches every process of the group, the
 * test worker too), after which the signal is raised again; and when a vitest worker's runner
 * died (its IPC channel closed and the worker now belongs to init): such a worker runs on with
 * its guests until its tests time out.
 */

const hooks = new Set<() => void>();
let installed = false;

/** Run every hook once, the last registered first (what was set up first goes last); synchronous: nothing can be awaited there. */
function runHooks(): void {
  for (const h of [...hooks].reverse()) {
    hooks.delete(h);
    try {
      h();
    } catch {
      /* the others still run */
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runHooks);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => {
      runHooks();
      process.kill(process.pid, signal); // this listener is gone: the default action, or vitest's own
    });
  const parent = process.ppid;
  if (process.send) process.once('disconnect', () => endWhenOrphaned(parent));
}

/**
 * After the IPC channel closed: exit once this process is init's, its runner dead. Not at once:
 * an orderly end of the pool closes the channel too, with the runner still there, and a runner
 * that died closes it before the kernel has given its children to init (looked at every 100 ms,
 * a timer that keeps nothing alive).
 */
function endWhenOrphaned(parent: number): void {
  const check = setInterval(() => {
    if (process.ppid !== parent) process.exit(1); // 'exit' runs the hooks
  }, 100);
  check.unref();
}

/** `hook` runs when this process ends, unless unregistered first (the returned function); hooks run last registered first. */
export function onProcessEnd(hook: () => void): () => void {
  install();
  hooks.add(hook);
  return () => hooks.delete(hook);
}
