/** Errors of the etcd coordination adapter, always carrying what was tried on which key. */

export class CoordinationError extends Error {
  constructor(
    readonly op: string,
    readonly key: string,
    message: string,
    cause?: unknown,
  ) {
    super(`etcd ${op} ${key}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = "CoordinationError";
  }
}

/** Wraps an etcd3 client error with the operation and key it happened on. */
export function wrapEtcdError(op: string, key: string, err: unknown): CoordinationError {
  if (err instanceof CoordinationError) return err;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new CoordinationError(op, key, message, err);
}

/** Runs `fn`, rethrowing any failure as a CoordinationError for (op, key). */
export async function withContext<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrapEtcdError(op, key, err);
  }
}

/** Thrown by operations on a coordinator that was stopped (or crashed). */
export class CoordinatorStoppedError extends Error {
  constructor(op: string) {
    super(`coordinator stopped: ${op}`);
    this.name = "CoordinatorStoppedError";
  }
}
