/**
 * Per-host progress while push or status runs: listr2's live view on a terminal, one plain
 * line per step elsewhere (CI logs, pipes, scripts).
 */

export interface Progress {
  start(node: string, text: string): void;
  step(node: string, text: string): void;
  /** `error` marks the host failed */
  done(node: string, text: string, error?: string): void;
  /** resolves when the view is finished (listr2's last frame drawn) */
  end(): Promise<void>;
}

export type Write = (line: string) => void;

export class PlainProgress implements Progress {
  constructor(private readonly write: Write) {}
  start(node: string, text: string) {
    this.write(`${node}: ${text}`);
  }
  step(node: string, text: string) {
    this.write(`${node}: ${text}`);
  }
  done(node: string, text: string, error?: string) {
    this.write(error ? `${node}: FAILED ${error}` : `${node}: ${text}`);
  }
  async end() {}
}

interface Slot {
  task?: { title: string; output: string };
  /** the title set before listr2 (loaded lazily) handed over the task */
  title?: string;
  finish?: (error?: string) => void;
  pending?: { title: string; error?: string };
}

/** listr2 draws; the hosts run in push's own pool, each task just mirrors one host. */
export class ListrProgress implements Progress {
  private readonly slots = new Map<string, Slot>();
  private readonly run: Promise<unknown>;

  constructor(nodes: string[]) {
    for (const n of nodes) this.slots.set(n, {});
    this.run = import('listr2').then(({ Listr }) =>
      new Listr(
        nodes.map((node) => ({
          title: `${node}: waiting`,
          task: (_ctx: unknown, task: { title: string; output: string }) =>
            new Promise<void>((resolve, reject) => {
              const slot = this.slots.get(node)!;
              slot.task = task;
              if (slot.title) task.title = slot.title;
              slot.finish = (error) => (error ? reject(new Error(error)) : resolve());
              if (slot.pending) {
                task.title = slot.pending.title;
                slot.finish(slot.pending.error);
              }
            }),
        })),
        // the title says where a Pi failed; the full error is in push's report below the view
        { concurrent: true, exitOnError: false, rendererOptions: { showErrorMessage: false } },
      )
        .run()
        .catch(() => undefined), // failures are reported by push's own summary
    );
  }

  start(node: string, text: string) {
    const slot = this.slots.get(node);
    if (!slot) return;
    slot.title = `${node}: ${text}`;
    if (slot.task) slot.task.title = slot.title;
  }
  step(node: string, text: string) {
    const t = this.slots.get(node)?.task;
    if (t) t.output = text;
  }
  done(node: string, text: string, error?: string) {
    const slot = this.slots.get(node);
    if (!slot) return;
    const title = `${node}: ${error ? `failed at ${error.split(':')[0]}` : text}`;
    if (slot.task && slot.finish) {
      slot.task.title = title;
      slot.finish(error);
    } else slot.pending = { title, error };
  }
  async end() {
    await this.run;
  }
}

export function progressFor(nodes: string[], tty: boolean, write: Write): Progress {
  return tty ? new ListrProgress(nodes) : new PlainProgress(write);
}
