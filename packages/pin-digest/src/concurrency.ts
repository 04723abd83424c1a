/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Settles like Promise.allSettled but for one value: errors become `{ error }` instead of rejections. */
export async function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: Error }> {
  try {
    return { value: await p };
  } catch (e) {
    return { error: e instanceof Error ? e : new Error(String(e)) };
  }
}
