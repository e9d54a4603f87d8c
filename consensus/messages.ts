import type { Ballot, LogIndex, NodeId, Value } from "./types";

/**
 * Every message between replicas' cores. Handlers are idempotent: any message
 * may be lost, duplicated, delayed or reordered, and resends are on tick.
 */
export type Message =
  | Prepare
  | PromiseMsg
  | Nack
  | Disposed
  | Accept
  | Accepted
  | Commit
  | Learned
  | CatchUp
  | CatchUpReply;

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
}

/** Phase 1a, once per leadership: covers every instance from `fromIndex` on. */
export interface Prepare extends Envelope {
  readonly type: "prepare";
  readonly ballot: Ballot;
  readonly fromIndex: LogIndex;
}

/**
 * What an acceptor knows at or above `fromIndex`: values it learned as chosen,
 * and values it accepted (with the ballot). `recovering` marks an amnesiac
 * replica whose promise must not count toward a Phase 1 quorum.
 */
export interface PromiseEntry {
  readonly index: LogIndex;
  readonly value: Value;
  /** The accepted ballot; null when the entry is reported as chosen. */
  readonly ballot: Ballot | null;
}

export interface PromiseMsg extends Envelope {
  readonly type: "promise";
  readonly ballot: Ballot;
  readonly fromIndex: LogIndex;
  readonly recovering: boolean;
  readonly entries: readonly PromiseEntry[];
}

/** A refusal: the acceptor has promised `promised`, which is above `ballot`. */
export interface Nack extends Envelope {
  readonly type: "nack";
  readonly ballot: Ballot;
  readonly promised: Ballot;
}

/**
 * A refusal to touch an instance below the sender's disposal watermark: such
 * an instance is chosen and learned by every live member and its state is
 * gone. The asker must catch up (log, or snapshot at `snapshotIndex`).
 */
export interface Disposed extends Envelope {
  readonly type: "disposed";
  readonly index: LogIndex;
  readonly disposeBelow: LogIndex;
  readonly snapshotIndex: LogIndex;
}

/**
 * Phase 2a. `horizon` is the last index that this ballot's Phase 1 recovered
 * (recovering replicas must learn up to it before they vote in Phase 1
 * again); `chosenIndex` piggybacks the leader's chosen watermark.
 */
export interface Accept extends Envelope {
  readonly type: "accept";
  readonly ballot: Ballot;
  readonly index: LogIndex;
  readonly value: Value;
  readonly horizon: LogIndex;
  readonly chosenIndex: LogIndex;
}

export interface Accepted extends Envelope {
  readonly type: "accepted";
  readonly ballot: Ballot;
  readonly index: LogIndex;
}

/**
 * The leader's chosen watermark (sent when it moves, and as the heartbeat),
 * with the disposal watermark. A `heartbeat` or a `readSeq` asks for a
 * `Learned` reply.
 */
export interface Commit extends Envelope {
  readonly type: "commit";
  readonly ballot: Ballot;
  readonly chosenIndex: LogIndex;
  readonly disposeBelow: LogIndex;
  readonly horizon: LogIndex;
  readonly heartbeat: boolean;
  /** A read-index round the leader asks to confirm (absent or 0: none). */
  readonly readSeq?: number;
}

/**
 * A follower's progress report, the input of the disposal watermark; with
 * `readSeq`, its answer to that read-index round (`promised` tells whether
 * it still stands by the leader's ballot).
 */
export interface Learned extends Envelope {
  readonly type: "learned";
  readonly incarnation: number;
  readonly learnedIndex: LogIndex;
  readonly promised: Ballot;
  readonly recovering: boolean;
  readonly readSeq?: number;
}

/** Gap repair: ask for chosen entries in [fromIndex, toIndex]. */
export interface CatchUp extends Envelope {
  readonly type: "catchup";
  readonly fromIndex: LogIndex;
  readonly toIndex: LogIndex;
}

/**
 * Chosen entries the sender still has; `snapshotIndex` is where its log
 * starts (entries at or below it only exist in its snapshot).
 */
export interface CatchUpReply extends Envelope {
  readonly type: "catchup-reply";
  readonly entries: readonly { readonly index: LogIndex; readonly value: Value }[];
  readonly snapshotIndex: LogIndex;
  readonly chosenIndex: LogIndex;
}

export type MessageType = Message["type"];
