import type { ErrorCode } from "./errors";
import type { CommandResult } from "./results";
import type { ClientId, LogIndex, RequestId } from "./types";

/**
 * What the decider decided. State-changing events carry everything `evolve`
 * needs (new version, index), so evolve never re-derives anything. Every
 * decision ends with exactly one request event carrying the client's result.
 */

/** A key was created or modified (put, putMany, successful cas, incr, append). */
export interface KeyPut {
  readonly type: "KeyPut";
  readonly key: string;
  readonly value: string;
  readonly version: number;
  readonly index: LogIndex;
}

/** A key that existed was removed. Deleting an absent key emits nothing. */
export interface KeyDeleted {
  readonly type: "KeyDeleted";
  readonly key: string;
  /** The version the key had when it was removed. */
  readonly version: number;
  readonly index: LogIndex;
}

/** A compare-and-set met a different value or version; the state is unchanged. */
export interface CasFailed {
  readonly type: "CasFailed";
  readonly key: string;
  readonly expected: string | null;
  readonly expectedVersion?: number;
  readonly actualValue: string | null;
  readonly actualVersion: number;
}

/** An increment met a non-integer value or would overflow int64; unchanged. */
export interface IncrementRejected {
  readonly type: "IncrementRejected";
  readonly key: string;
  readonly code: "NOT_AN_INTEGER" | "INTEGER_OVERFLOW";
  readonly message: string;
}

/** A command failed validation (or an append would exceed the value limit); unchanged. */
export interface CommandRejected {
  readonly type: "CommandRejected";
  readonly code: ErrorCode;
  readonly message: string;
}

/** The request was applied (or rejected) for the first time: remember its result. */
export interface RequestCompleted {
  readonly type: "RequestCompleted";
  readonly clientId: ClientId;
  readonly requestId: RequestId;
  readonly index: LogIndex;
  readonly result: CommandResult;
}

/** Same requestId as the last one: answer the remembered result, change nothing. */
export interface RequestDuplicated {
  readonly type: "RequestDuplicated";
  readonly clientId: ClientId;
  readonly requestId: RequestId;
  readonly result: CommandResult;
}

/** Older than the last requestId: never applied, not remembered. */
export interface RequestStale {
  readonly type: "RequestStale";
  readonly clientId: ClientId;
  readonly requestId: RequestId;
  readonly lastRequestId: RequestId;
  readonly result: CommandResult;
}

/** A read marker passed through the log; nothing changes. */
export interface ReadMarked {
  readonly type: "ReadMarked";
  readonly clientId: ClientId;
  readonly requestId: RequestId;
  readonly result: CommandResult;
}

/** Clients whose last request is at an index below `idleBefore` are forgotten. */
export interface SessionsExpired {
  readonly type: "SessionsExpired";
  readonly idleBefore: LogIndex;
}

export type RequestEvent = RequestCompleted | RequestDuplicated | RequestStale | ReadMarked;

export type KvEvent =
  | KeyPut
  | KeyDeleted
  | CasFailed
  | IncrementRejected
  | CommandRejected
  | RequestEvent
  | SessionsExpired;

/** The client's answer: carried by the request event that ends every decision. */
export function resultOf(events: readonly KvEvent[]): CommandResult {
  const last = events[events.length - 1];
  if (last === undefined || !("result" in last)) {
    throw new Error("invariant: a decision must end with a request event");
  }
  return last.result;
}
