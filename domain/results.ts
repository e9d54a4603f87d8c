import type { ErrorCode } from "./errors";
import type { LogIndex } from "./types";

/**
 * What the replica returns to the waiting client, one per command. Each
 * variant maps 1:1 to the REST contract (drop `type`, send the rest):
 *   put / incr / append → 200 {key, value, version, index}
 *   delete              → 200 {key, deleted, index}
 *   cas                 → 200 {succeeded, key, value, version, index}
 *   txn (putMany)       → 200 {index}
 *   read                → the REST layer answers the read at `index`
 *   rejected            → errorKind(code) === "invalid" ? 422 : 409, body {error: message, code}
 * `index` is always the log index the answer reflects (the min-index token).
 */
export interface ValueResult {
  readonly type: "put" | "incr" | "append";
  readonly key: string;
  readonly value: string;
  readonly version: number;
  readonly index: LogIndex;
}

export interface DeletedResult {
  readonly type: "deleted";
  readonly key: string;
  /** false when the key was already absent. */
  readonly deleted: boolean;
  readonly index: LogIndex;
}

/**
 * On success: the new value and version. On failure: the current value and
 * version (null / 0 when the key is absent), so the client can retry.
 */
export interface CasResult {
  readonly type: "cas";
  readonly succeeded: boolean;
  readonly key: string;
  readonly value: string | null;
  readonly version: number;
  readonly index: LogIndex;
}

export interface TxnResult {
  readonly type: "txn";
  readonly index: LogIndex;
}

export interface ReadResult {
  readonly type: "read";
  readonly index: LogIndex;
}

export interface RejectedResult {
  readonly type: "rejected";
  readonly code: ErrorCode;
  readonly message: string;
  readonly index: LogIndex;
}

export type CommandResult =
  | ValueResult
  | DeletedResult
  | CasResult
  | TxnResult
  | ReadResult
  | RejectedResult;
