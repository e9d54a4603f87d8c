import type { Command, CommandResult } from "../../domain";
import type { KvProjection } from "../../projections/kv-projection";
import type { PeerLinkStats } from "../grpc/peer-transport";

export type Consistency = "linearizable" | "sequential";

/** How a client command ended, as the REST layer needs to know it. */
export type CommandOutcome =
  | { readonly kind: "ok"; readonly result: CommandResult }
  /** No leader or quorum could be reached in time: the client may retry (503). */
  | { readonly kind: "unavailable"; readonly reason: string; readonly retryAfterSeconds: number };

/** A read view: a projection at (at least) the index the guarantee requires. */
export type ReadOutcome =
  | { readonly kind: "ok"; readonly view: KvProjection }
  | { readonly kind: "unavailable"; readonly reason: string; readonly retryAfterSeconds: number };

export interface MemberView {
  readonly id: number;
  readonly status: "up" | "recovering" | "down";
  readonly learnedIndex: number | null;
  readonly restUrl: string | null;
  readonly grpcAddress: string;
  readonly incarnation: number | null;
}

export interface ClusterView {
  readonly nodeId: number;
  /**
   * Whose progress table the members' learned indexes come from: only the
   * leader tracks every member's, so a follower asks the leader (null when it
   * could not: then only its own index is filled in).
   */
  readonly learnedIndexesFrom: number | null;
  readonly leader: number | null;
  readonly role: string;
  readonly ballot: { readonly round: number; readonly nodeId: number };
  readonly leaderBallot: { readonly round: number; readonly nodeId: number };
  readonly members: readonly MemberView[];
  readonly chosenIndex: number;
  readonly appliedIndex: number;
  readonly disposeBelow: number;
  readonly snapshotIndex: number;
  readonly logStartsAfter: number;
  readonly recovering: boolean;
  readonly etcdReachable: boolean | null;
  readonly incarnation: number;
  /** This process's memory (`process.memoryUsage()`). */
  readonly memory: { readonly heapUsedBytes: number; readonly rssBytes: number };
  /** Log entries the learner still holds (snapshot tail plus unapplied). */
  readonly retainedEntries: number;
  /** Consensus instances the acceptor still holds (not yet disposed). */
  readonly acceptorInstances: number;
  /** Client commands this replica is waiting to see applied (proposed, or forwarded by it). */
  readonly waitingCommands: number;
  /** This replica's gRPC links: batches each way, Paxos messages sent and dropped, forwards. */
  readonly peerLinks: readonly PeerLinkStats[];
}

/** `paxlog replay`: the state rebuilt from the latest snapshot plus the log, against the live one. */
export interface ReplayReport {
  readonly snapshotIndex: number;
  readonly appliedIndex: number;
  readonly entriesReplayed: number;
  /** The retained log covered every entry from the snapshot to the applied index. */
  readonly complete: boolean;
  readonly liveDigest: string;
  readonly replayedDigest: string | null;
  readonly match: boolean;
  readonly error: string | null;
  readonly millis: number;
}

/** What the REST API needs from a replica. */
export interface KvService {
  /** Runs a command through the log (forwarding to the leader if need be). */
  command(command: Command, timeoutMs: number): Promise<CommandOutcome>;
  /** This replica's state now if it has applied `minIndex` (a sequential read with no wait), else null. */
  appliedView(minIndex: number): KvProjection | null;
  /** A view for reading with the given guarantee, at or after `minIndex`. */
  readView(consistency: Consistency, minIndex: number, timeoutMs: number): Promise<ReadOutcome>;
  /** This replica's view; `local` skips asking the leader for members' learned indexes. */
  cluster(local: boolean): Promise<ClusterView>;
  /** A digest of the whole applied state, to compare replicas. */
  digest(): { readonly index: number; readonly digest: string };
  replay(): ReplayReport;
  /** True once the replica serves requests. */
  readonly serving: boolean;
  /** The last log index applied here (for X-Paxlog-Index on every answer). */
  readonly appliedIndex: number;
}
