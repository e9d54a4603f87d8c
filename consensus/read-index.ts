import type { ReadReady } from "./effects";
import type { LogIndex, NodeId } from "./types";

/**
 * Read-index rounds: linearizable reads without a log entry each.
 *
 * A read that reaches the leader of ballot b takes as its index the highest
 * index that may hold a value chosen before it arrived: the last index the
 * leader proposed in b (a value chosen in b was proposed by it, and may be
 * chosen, learned and applied by a follower before the leader hears of it:
 * with three replicas a follower learns as it accepts), its chosen watermark,
 * or b's Phase 1 horizon (everything chosen by lower ballots), whichever is
 * highest. It is answered
 * once a quorum has confirmed, in replies to a message sent *after* the read
 * arrived, that it has promised nothing above b: a higher ballot that chose a
 * value before the read arrived had a quorum of promises, which would
 * intersect that one. A replica that then has applied the index may answer.
 *
 * One round is in flight at a time; reads that arrive meanwhile wait for the
 * next, so however many reads arrive, each costs a share of one message per
 * peer. Pure bookkeeping: the leader sends and receives.
 */
export class ReadRounds {
  private lastSeq = 0;
  private round: {
    readonly seq: number;
    readonly reads: readonly ReadReady[];
    readonly acks: Set<NodeId>;
    sentAt: number;
  } | null = null;
  private waiting: ReadReady[] = [];

  constructor(private readonly quorum: number) {}

  /** Queues a read; true if no round is in flight, so one should start now. */
  add(read: ReadReady): boolean {
    this.waiting.push(read);
    return this.round === null;
  }

  /**
   * Starts a round for every waiting read; returns its sequence number, or
   * null when nothing waits or a round is already in flight.
   */
  start(now: number): number | null {
    if (this.round !== null || this.waiting.length === 0) return null;
    this.round = {
      seq: ++this.lastSeq,
      reads: this.waiting,
      acks: new Set(),
      sentAt: now,
    };
    this.waiting = [];
    return this.round.seq;
  }

  /**
   * A replica (the leader itself included) that still stands by our ballot
   * answered round `seq`. Returns the reads the current round confirms once
   * a quorum has answered it.
   */
  ack(from: NodeId, seq: number): readonly ReadReady[] | null {
    const round = this.round;
    // An answer to an earlier round was sent before some of these reads arrived.
    if (!round || seq !== round.seq) return null;
    round.acks.add(from);
    return round.acks.size >= this.quorum ? this.finish() : null;
  }

  /** The round in flight, if it is due a resend to the peers that have not answered. */
  due(
    now: number,
    resendTicks: number,
  ): { seq: number; missing: (peer: NodeId) => boolean } | null {
    const round = this.round;
    if (!round || now - round.sentAt < resendTicks) return null;
    round.sentAt = now;
    return { seq: round.seq, missing: (peer) => !round.acks.has(peer) };
  }

  /** Leadership ended: every read still waiting fails (the client asks the new leader). */
  failAll(): number[] {
    const ids = [...(this.round?.reads ?? []), ...this.waiting].map((r) => r.id);
    this.round = null;
    this.waiting = [];
    return ids;
  }

  private finish(): readonly ReadReady[] {
    const reads = this.round?.reads ?? [];
    this.round = null;
    return reads;
  }
}

/** The index a read arriving now must wait for (see ReadRounds). */
export function readIndexFor(
  chosenIndex: LogIndex,
  horizon: LogIndex,
  lastProposed: LogIndex,
): LogIndex {
  return Math.max(chosenIndex, horizon, lastProposed);
}
