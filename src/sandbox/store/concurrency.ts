/** Runs `fn` over `items` with at most `limit` calls in flight (file-system work that would otherwise open thousands of handles at once). */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Runs `fn` over `items` in slices of `chunk`, yielding to the event loop
 * between slices. For many tiny synchronous file-system calls (stat, small
 * reads): a synchronous call costs microseconds where a thread-pool round
 * trip costs tens, and the yields keep the process responsive.
 */
export async function forEachChunked<T>(items: readonly T[], chunk: number, fn: (item: T, index: number) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
  for (let start = 0; start < items.length; start += chunk) {
    signal?.throwIfAborted();
    const end = Math.min(items.length, start + chunk);
    for (let i = start; i < end; i++) {
      const pending = fn(items[i] as T, i);
      if (pending) await pending;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
