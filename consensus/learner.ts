import { invariant } from "./invariant";
import { type DecidedEntry, type LogIndex, type Value, valuesEqual } from "./types";

/**
 * The learner role: the chosen values this replica knows, and the decided
 * prefix it has handed to the state machine. Values may be learned out of
 * order (from commits, catch-up or promises); they are released in order.
 * The retained log holds (snapshotIndex, ...]: earlier entries live only in
 * the state machine's snapshot.
 */
export class Learner {
  private readonly log = new Map<LogIndex, Value>();
  /** Every index up to here is learned and was released for applying. */
  private chosen: LogIndex = 0;
  /** The highest index anyone told us is chosen. */
  private known: LogIndex = 0;
  private snapshot: LogIndex = 0;

  get chosenIndex(): LogIndex {
    return this.chosen;
  }

  get knownChosen(): LogIndex {
    return this.known;
  }

  get snapshotIndex(): LogIndex {
    return this.snapshot;
  }

  hearChosen(index: LogIndex): void {
    if (index > this.known) this.known = index;
  }

  /**
   * Records that `index` is chosen with `value`, and releases every newly
   * contiguous entry into `decided`. Learning a different value for a known
   * index is a broken agreement: the core stops.
   */
  learn(index: LogIndex, value: Value, decided: DecidedEntry[]): boolean {
    if (index <= this.snapshot) return false;
    const known = this.log.get(index);
    if (known !== undefined) {
      invariant(
        valuesEqual(known, value),
        () => `index ${index} learned with two different values`,
      );
      return false;
    }
    if (index <= this.chosen) return false; // released and compacted away already
    this.log.set(index, value);
    this.hearChosen(index);
    this.release(decided);
    return true;
  }

  private release(decided: DecidedEntry[]): void {
    for (;;) {
      const value = this.log.get(this.chosen + 1);
      if (value === undefined) return;
      this.chosen++;
      decided.push({ index: this.chosen, value });
    }
  }

  valueAt(index: LogIndex): Value | undefined {
    return this.log.get(index);
  }

  /** Learned entries at or above `fromIndex` (in any order), for a Promise. */
  *learnedFrom(fromIndex: LogIndex): Iterable<[LogIndex, Value]> {
    for (const entry of this.log) if (entry[0] >= fromIndex) yield entry;
  }

  /** Contiguous learned entries in [from, to], at most `max` of them. */
  entries(from: LogIndex, to: LogIndex, max: number): { index: LogIndex; value: Value }[] {
    const out: { index: LogIndex; value: Value }[] = [];
    for (let i = Math.max(from, this.snapshot + 1); i <= to && out.length < max; i++) {
      const value = this.log.get(i);
      if (value === undefined) break;
      out.push({ index: i, value });
    }
    return out;
  }

  /** The state machine snapshotted at `through`: drop the log up to there. */
  compact(through: LogIndex): void {
    invariant(
      through <= this.chosen,
      () => `compaction at ${through} beyond chosen ${this.chosen}`,
    );
    if (through <= this.snapshot) return;
    for (let i = this.snapshot + 1; i <= through; i++) this.log.delete(i);
    this.snapshot = through;
  }

  /**
   * The state machine installed a snapshot taken at `index` elsewhere: every
   * entry up to it is chosen and applied. Later entries already learned are
   * released in order.
   */
  installSnapshot(index: LogIndex, decided: DecidedEntry[]): boolean {
    if (index <= this.chosen) return false;
    for (const i of this.log.keys()) if (i <= index) this.log.delete(i);
    this.chosen = index;
    this.snapshot = index;
    this.hearChosen(index);
    this.release(decided);
    return true;
  }

  get retained(): number {
    return this.log.size;
  }
}
