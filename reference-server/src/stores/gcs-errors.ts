/** Small helpers shared by the GCS store's modules. */

/** True when a client error carries HTTP `status` (ApiError `code`, Gaxios `status`/`response`). */
export function isStatus(error: unknown, status: number): boolean {
  const e = error as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null;
  return e?.code === status || e?.status === status || e?.response?.status === status;
}

/** An error with code ENOENT, as the filesystem store throws for missing sources. */
export function notFoundError(message: string, cause?: unknown): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message, { cause });
  error.code = 'ENOENT';
  return error;
}

/** Runs `task` over `items` with at most `limit` in flight; rejects with the first failure. */
export async function forEachLimit<T>(
  items: Iterable<T>,
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failed = false;
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done && !failed; next = iterator.next()) {
      try {
        await task(next.value);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, limit) }, worker));
  const rejected = results.find((result) => result.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
}
