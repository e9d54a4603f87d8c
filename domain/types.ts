/**
 * Basic vocabulary shared by commands, events, results and state.
 *
 * `LogIndex` is branded so that a log position is never confused with a
 * version or a request id: all three are plain integers on the wire.
 */
export type LogIndex = number & { readonly __brand: "LogIndex" };

/** The log index before anything is applied. */
export const NO_INDEX = 0 as LogIndex;

export function logIndex(n: number): LogIndex {
  return n as LogIndex;
}

/** Opaque client identity chosen by the client (UTF-8, bounded by limits). */
export type ClientId = string;

/** Strictly increasing positive integer per client (≤ Number.MAX_SAFE_INTEGER). */
export type RequestId = number;

/** What the state knows about one key. */
export interface KeyEntry {
  readonly value: string;
  /** 1 on creation, +1 per modification; a deleted key is gone (re-created → 1). */
  readonly version: number;
  /** The log index of the batch that last wrote this key. */
  readonly modIndex: LogIndex;
}
