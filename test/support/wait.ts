/**
 * Waiting on conditions with a deadline (never a bare sleep standing in for a
 * condition).
 */

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Poll period (default 10 ms). */
  intervalMs?: number;
  /** Included in the timeout error, to say what was awaited. */
  message?: string;
}

export class WaitTimeoutError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "WaitTimeoutError";
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `cond` until it returns a truthy value (which is returned), or rejects
 * with a WaitTimeoutError after `timeoutMs`. A `cond` that throws counts as
 * "not yet"; the last error is attached to the timeout error as `cause`.
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  options: WaitOptions,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 10;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const what = options.message ?? "condition";
      throw new WaitTimeoutError(
        `timed out after ${options.timeoutMs} ms waiting for ${what}`,
        lastError,
      );
    }
    await pause(Math.min(interval, left));
  }
}

/** Minimal emitter shape (node EventEmitter, the Coordinator, ...). */
export interface EventSource<A extends unknown[]> {
  on(event: string, listener: (...args: A) => void): unknown;
  off(event: string, listener: (...args: A) => void): unknown;
}

/**
 * Resolves with the arguments of the first `event` whose arguments satisfy
 * `predicate` (default: any), or rejects after `timeoutMs`.
 */
export function waitForEvent<A extends unknown[]>(
  source: EventSource<A>,
  event: string,
  options: WaitOptions & { predicate?: (...args: A) => boolean },
): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const listener = (...args: A) => {
      let ok: boolean;
      try {
        ok = options.predicate ? options.predicate(...args) : true;
      } catch {
        ok = false;
      }
      if (!ok) return;
      clearTimeout(timer);
      source.off(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      source.off(event, listener);
      const what = options.message ?? `event "${event}"`;
      reject(new WaitTimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${what}`));
    }, options.timeoutMs);
    source.on(event, listener);
  });
}
