/**
 * The drivers' concurrency pool: every host at once, up to a limit (push's --concurrency).
 * Items start in input order; results come back in input order.
 */

/**
 * Run `fn` over `items`, at most `limit` at a time. A failing item never stops the others: its
 * slot holds `onError(error, item)`; without `onError`, every item still runs to its end, then
 * the pool rejects with the errors (an AggregateError, in input order).
 */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onError?: (error: unknown, item: T) => R,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  const errors: { index: number; error: unknown }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (error) {
        if (onError) out[i] = onError(error, items[i]!);
        else errors.push({ index: i, error });
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (errors.length) {
    const sorted = errors.sort((a, b) => a.index - b.index).map((e) => e.error);
    throw new AggregateError(sorted, `${sorted.length} of ${items.length} failed: ${sorted.map((e) => (e as Error)?.message ?? String(e)).join('; ')}`);
  }
  return out;
}
