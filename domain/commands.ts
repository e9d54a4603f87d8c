import type { ClientId, RequestId } from "./types";

/**
 * Client commands. Each carries `(clientId, requestId)` so the state machine
 * can apply it exactly once (see `decider.ts`). Commands are what the log
 * carries (encoded by `codec.ts`); they say what the client asked for, never
 * what happened.
 */
interface Request {
  readonly clientId: ClientId;
  readonly requestId: RequestId;
}

export interface Put extends Request {
  readonly type: "put";
  readonly key: string;
  readonly value: string;
}

export interface Delete extends Request {
  readonly type: "delete";
  readonly key: string;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** Atomic: every put and delete applies, or (if any is invalid) none does. */
export interface PutMany extends Request {
  readonly type: "putMany";
  readonly puts: readonly KeyValue[];
  readonly deletes: readonly string[];
}

export interface CompareAndSet extends Request {
  readonly type: "cas";
  readonly key: string;
  /** The value the key must hold; `null` = the key must be absent. */
  readonly expected: string | null;
  /** If given, the key's version must also equal it (only with a non-null `expected`). */
  readonly expectedVersion?: number;
  readonly value: string;
}

/**
 * The value is a decimal signed 64-bit integer string (absent key = 0). The
 * arithmetic is done in BigInt and a result outside [-2^63, 2^63-1] is an
 * INTEGER_OVERFLOW rejection; `by` itself must be a safe integer.
 */
export interface Increment extends Request {
  readonly type: "incr";
  readonly key: string;
  readonly by: number;
}

/** Absent key = "". */
export interface Append extends Request {
  readonly type: "append";
  readonly key: string;
  readonly suffix: string;
}

/**
 * A linearizable read goes through the log as a marker: it changes nothing
 * and is not deduplicated (reads are idempotent, so it never touches the
 * exactly-once table and its requestId is not checked against it). The
 * replica answers the read from the state right after applying the batch
 * that contains it.
 */
export interface ReadMarker extends Request {
  readonly type: "read";
}

export type Command = Put | Delete | PutMany | CompareAndSet | Increment | Append | ReadMarker;
export type CommandType = Command["type"];

export const put = (clientId: ClientId, requestId: RequestId, key: string, value: string): Put => ({
  type: "put",
  clientId,
  requestId,
  key,
  value,
});

export const del = (clientId: ClientId, requestId: RequestId, key: string): Delete => ({
  type: "delete",
  clientId,
  requestId,
  key,
});

export const putMany = (
  clientId: ClientId,
  requestId: RequestId,
  puts: readonly KeyValue[],
  deletes: readonly string[] = [],
): PutMany => ({ type: "putMany", clientId, requestId, puts, deletes });

export const cas = (
  clientId: ClientId,
  requestId: RequestId,
  key: string,
  expected: string | null,
  value: string,
  expectedVersion?: number,
): CompareAndSet =>
  expectedVersion === undefined
    ? { type: "cas", clientId, requestId, key, expected, value }
    : { type: "cas", clientId, requestId, key, expected, expectedVersion, value };

export const incr = (
  clientId: ClientId,
  requestId: RequestId,
  key: string,
  by: number,
): Increment => ({
  type: "incr",
  clientId,
  requestId,
  key,
  by,
});

export const append = (
  clientId: ClientId,
  requestId: RequestId,
  key: string,
  suffix: string,
): Append => ({ type: "append", clientId, requestId, key, suffix });

export const readMarker = (clientId: ClientId, requestId: RequestId): ReadMarker => ({
  type: "read",
  clientId,
  requestId,
});
