import { invariant } from "./invariant";
import { type Ballot, ballotLess, type LogIndex, type Value } from "./types";

export interface AcceptedValue {
  readonly ballot: Ballot;
  readonly value: Value;
}

export type PrepareOutcome = "promised" | "nack" | "disposed";
export type AcceptOutcome = "accepted" | "nack" | "disposed";

/**
 * The acceptor role: one promise covering every instance, and the value it
 * accepted per instance. Instances below `disposeBelow` are gone for good:
 * every live member learned them, and nothing may prepare or accept them.
 */
export class Acceptor {
  private readonly accepted = new Map<LogIndex, AcceptedValue>();
  private disposedBelow: LogIndex = 1;

  /**
   * @param promised the initial promise. A replica that restarted without
   * memory starts with its fence ballot: every promise it may have made
   * before the crash was for a round at or below the fence.
   */
  constructor(private promisedBallot: Ballot) {}

  get promised(): Ballot {
    return this.promisedBallot;
  }

  get disposeBelow(): LogIndex {
    return this.disposedBelow;
  }

  prepare(ballot: Ballot, fromIndex: LogIndex): PrepareOutcome {
    if (fromIndex < this.disposedBelow) return "disposed";
    if (ballotLess(ballot, this.promisedBallot)) return "nack";
    this.promisedBallot = ballot;
    return "promised";
  }

  accept(ballot: Ballot, index: LogIndex, value: Value): AcceptOutcome {
    if (index < this.disposedBelow) return "disposed";
    if (ballotLess(ballot, this.promisedBallot)) return "nack";
    this.promisedBallot = ballot;
    this.accepted.set(index, { ballot, value });
    return "accepted";
  }

  acceptedAt(index: LogIndex): AcceptedValue | undefined {
    return this.accepted.get(index);
  }

  /** Every accepted instance at or above `fromIndex`, for a Promise. */
  *acceptedFrom(fromIndex: LogIndex): Iterable<[LogIndex, AcceptedValue]> {
    for (const entry of this.accepted) if (entry[0] >= fromIndex) yield entry;
  }

  /** Drops the state of every instance below `below` (never moves back). */
  dispose(below: LogIndex): boolean {
    if (below <= this.disposedBelow) return false;
    this.disposedBelow = below;
    for (const index of this.accepted.keys()) if (index < below) this.accepted.delete(index);
    invariant(
      [...this.accepted.keys()].every((i) => i >= below),
      () => `acceptor kept an instance below ${below}`,
    );
    return true;
  }

  get size(): number {
    return this.accepted.size;
  }
}
