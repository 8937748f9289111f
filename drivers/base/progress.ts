/**
 * Per-host progress while a driver runs (push, status; image and up to come): listr2's live
 * view on a terminal, one plain line per step elsewhere (CI logs, pipes, scripts).
 */

export interface Progress {
  start(host: string, text: string): void;
  step(host: string, text: string): void;
  /** `error` marks the host failed */
  done(host: string, text: string, error?: string): void;
  /** resolves when the view is finished (listr2's last frame drawn) */
  end(): Promise<void>;
}

export type Write = (line: string) => void;

export class PlainProgress implements Progress {
  constructor(private readonly write: Write) {}
  start(host: string, text: string) {
    this.write(`${host}: ${text}`);
  }
  step(host: string, text: string) {
    this.write(`${host}: ${text}`);
  }
  done(host: string, text: string, error?: string) {
    this.write(error ? `${host}: FAILED ${error}` : `${host}: ${text}`);
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

/** listr2 draws; the hosts run in the driver's own pool (pool.ts), each task just mirrors one host. */
export class ListrProgress implements Progress {
  private readonly slots = new Map<string, Slot>();
  private readonly run: Promise<unknown>;

  constructor(hosts: string[]) {
    for (const n of hosts) this.slots.set(n, {});
    this.run = import('listr2').then(({ Listr }) =>
      new Listr(
        hosts.map((host) => ({
          title: `${host}: waiting`,
          task: (_ctx: unknown, task: { title: string; output: string }) =>
            new Promise<void>((resolve, reject) => {
              const slot = this.slots.get(host)!;
              slot.task = task;
              if (slot.title) task.title = slot.title;
              slot.finish = (error) => (error ? reject(new Error(error)) : resolve());
              if (slot.pending) {
                task.title = slot.pending.title;
                slot.finish(slot.pending.error);
              }
            }),
        })),
        // the title says where a host failed; the full error is in the driver's report below the view
        { concurrent: true, exitOnError: false, rendererOptions: { showErrorMessage: false } },
      )
        .run()
        .catch(() => undefined), // failures are reported by the driver's own summary
    );
  }

  start(host: string, text: string) {
    const slot = this.slots.get(host);
    if (!slot) return;
    slot.title = `${host}: ${text}`;
    if (slot.task) slot.task.title = slot.title;
  }
  step(host: string, text: string) {
    const t = this.slots.get(host)?.task;
    if (t) t.output = text;
  }
  done(host: string, text: string, error?: string) {
    const slot = this.slots.get(host);
    if (!slot) return;
    const title = `${host}: ${error ? `failed at ${error.split(':')[0]}` : text}`;
    if (slot.task && slot.finish) {
      slot.task.title = title;
      slot.finish(error);
    } else slot.pending = { title, error };
  }
  async end() {
    await this.run;
  }
}

export function progressFor(hosts: string[], tty: boolean, write: Write): Progress {
  return tty ? new ListrProgress(hosts) : new PlainProgress(write);
}
