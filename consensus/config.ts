import type { NodeId } from "./types";

/** Tunables of the core. Times are in ticks; the driver decides a tick's length. */
export interface CoreConfig {
  /** This replica's id. */
  readonly id: NodeId;
  /** Every replica of the (static) cluster, this one included. */
  readonly members: readonly NodeId[];
  /** Instances the leader keeps in flight at once (the pipeline window W). */
  readonly window: number;
  /** Most commands in one instance's batch. */
  readonly maxBatchCommands: number;
  /** Most command bytes in one instance's batch (one command may exceed it alone). */
  readonly maxBatchBytes: number;
  /** Commands a leader queues while its window is full, before it refuses more. */
  readonly maxPendingCommands: number;
  /** The leader's heartbeat period. */
  readonly heartbeatTicks: number;
  /** How long an unanswered Prepare, Accept or CatchUp waits before it is resent. */
  readonly resendTicks: number;
  /** How long to wait for a ballot round (or after a preemption) before asking again. */
  readonly roundRetryTicks: number;
  /** How long a snapshot request may take before it is asked for again. */
  readonly snapshotRetryTicks: number;
  /** Most entries in one catch-up reply. */
  readonly maxCatchUpEntries: number;
  /**
   * A leader (or candidate) that has not heard from a quorum for this long
   * steps down and gives up the leader hint, so one that can reach a
   * majority may take over (a partitioned leader may still reach etcd).
   */
  readonly quorumLossTicks: number;
}

export const DEFAULT_CONFIG: Omit<CoreConfig, "id" | "members"> = {
  window: 32,
  maxBatchCommands: 1024,
  maxBatchBytes: 1 << 20,
  maxPendingCommands: 100_000,
  heartbeatTicks: 2,
  resendTicks: 4,
  roundRetryTicks: 4,
  snapshotRetryTicks: 100,
  maxCatchUpEntries: 512,
  quorumLossTicks: 20,
};

export const quorumSize = (members: number): number => Math.floor(members / 2) + 1;
