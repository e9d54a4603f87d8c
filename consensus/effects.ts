import type { Message } from "./messages";
import type { Ballot, DecidedEntry, LogIndex, NodeId } from "./types";

/** Things worth a log line or a status change; they change nothing by themselves. */
export type CoreEvent =
  | {
      readonly type: "leading";
      readonly ballot: Ballot;
      readonly fromIndex: LogIndex;
      readonly horizon: LogIndex;
    }
  | { readonly type: "stepped-down"; readonly ballot: Ballot; readonly reason: string }
  | { readonly type: "left-recovery"; readonly chosenIndex: LogIndex }
  | { readonly type: "disposed"; readonly disposeBelow: LogIndex }
  | {
      readonly type: "refused-disposed";
      readonly from: NodeId;
      readonly what: "prepare" | "accept";
      readonly index: LogIndex;
      readonly disposeBelow: LogIndex;
    };

/** A linearizable read may be answered from any state that has applied `index`. */
export interface ReadReady {
  readonly id: number;
  readonly index: LogIndex;
}

/** A request to fetch a snapshot from a peer whose log starts after ours ends. */
export interface SnapshotNeed {
  readonly from: NodeId;
  readonly index: LogIndex;
}

/**
 * Everything one input to the core asks the driver to do. The driver sends the
 * messages, applies the decided entries in order, asks etcd for a ballot round
 * when `requestRound` is set, fetches a snapshot when asked, and tells the
 * clients of `rejected` commands to go elsewhere (this replica will not
 * propose them: it is not, or no longer, the leader), and gives up the leader
 * hint for a while when `relinquish` is set (it cannot reach a quorum).
 * Read-index requests end in `readsReady` (with the index to wait for) or in
 * `readsFailed` (this replica does not, or no longer, lead: ask the leader).
 */
export interface Effects {
  readonly messages: readonly Message[];
  readonly decided: readonly DecidedEntry[];
  readonly requestRound: boolean;
  readonly relinquish: boolean;
  readonly snapshotNeeded: SnapshotNeed | null;
  readonly rejected: readonly Uint8Array[];
  readonly events: readonly CoreEvent[];
  readonly readsReady: readonly ReadReady[];
  readonly readsFailed: readonly number[];
}

/** Collects effects while one input is handled. */
export class Outbox {
  messages: Message[] = [];
  decided: DecidedEntry[] = [];
  requestRound = false;
  relinquish = false;
  snapshotNeeded: SnapshotNeed | null = null;
  rejected: Uint8Array[] = [];
  events: CoreEvent[] = [];
  readsReady: ReadReady[] = [];
  readsFailed: number[] = [];

  send(message: Message): void {
    this.messages.push(message);
  }

  event(event: CoreEvent): void {
    this.events.push(event);
  }

  take(): Effects {
    const effects: Effects = {
      messages: this.messages,
      decided: this.decided,
      requestRound: this.requestRound,
      relinquish: this.relinquish,
      snapshotNeeded: this.snapshotNeeded,
      rejected: this.rejected,
      events: this.events,
      readsReady: this.readsReady,
      readsFailed: this.readsFailed,
    };
    this.messages = [];
    this.decided = [];
    this.requestRound = false;
    this.relinquish = false;
    this.snapshotNeeded = null;
    this.rejected = [];
    this.events = [];
    this.readsReady = [];
    this.readsFailed = [];
    return effects;
  }
}
