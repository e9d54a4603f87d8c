import {
  type CheckOptions,
  checkLinearizability,
  type History,
  type HistoryEntry,
  renderTimeline,
  renderViolation,
} from "../../ops/check";

/**
 * Simulated clients' operations as a key-value history, checked at the end of
 * a run by the same linearizability checker as `paxlog check` (ops/check).
 *
 * Each client command is a put of a unique value (the command's own name, e.g.
 * `c2.7`) to one of a few keys, so that writes to one key overlap and reads
 * have something to tell apart. A write is invoked when its client first sends
 * it and returns when the agreed log first holds it at an index that some
 * replica applied (a real replica acknowledges then); a command chosen twice
 * (a client's retry) takes effect once, at its first index, as the replicas'
 * exactly-once table makes it. A read answered with read index r returns the
 * key's value after entries 1..r, once r is applied somewhere (a real replica
 * waits until it has applied r before answering).
 *
 * Times are ticks. Clients act at the end of a tick, after every delivery and
 * apply of that tick, so invocations are recorded at tick + 0.5: a write
 * applied at tick t then precedes a read sent at tick t (the checker treats
 * equal times as concurrent, which would hide that order).
 */

/** Keys simulated clients write and read: few, so that several clients write each one. */
export const SIM_KEYS = 3;

/** Enough for every passing seed seen; a partition that needs more ends `unknown`, not failed. */
export const SIM_CHECK_BUDGET: CheckOptions = {
  maxStepsPerPartition: 200_000,
  // A safety net only: the step budget decides (the most any passing seed of 5,000
  // took is ~10k steps, in 16 ms), so verdicts do not depend on the machine.
  maxMillisPerPartition: 5_000,
};

const CLIENT_PHASE = 0.5;

/** Rows of a failing history shown with a failing seed. */
const REPORT_ROWS = 30;

export function writeKey(client: number, seq: number): string {
  return `k${(client + seq) % SIM_KEYS}`;
}

export function readKey(readId: number): string {
  return `k${readId % SIM_KEYS}`;
}

export interface HistoryCheckSummary {
  /** Ops the linearizability check looked at (answered reads and every write). */
  readonly ops: number;
  /** Of which reads. */
  readonly reads: number;
  readonly partitions: number;
  readonly partitionsOk: number;
  /** Partitions whose search ran out of budget: neither proven nor refuted. */
  readonly partitionsUnknown: number;
  /** The checker's one-line description of the smallest failing partition, if any. */
  readonly violation?: string;
  /** The end of the failing partition's timeline (where it stops linearizing), if any. */
  readonly report?: string;
}

// Records keep one shape from birth (NOT_YET until known): cheaper for V8
// than growing fields, which showed in profiles of 5,000 seeds.
const NOT_YET = -1;

interface WriteRecord {
  readonly id: number;
  readonly client: number;
  readonly key: string;
  readonly value: string;
  readonly invokedAt: number;
  /** The log index where it took effect, and the tick of that index's first apply. */
  index: number;
  returnedAt: number;
}

interface ReadRecord {
  readonly id: number;
  readonly client: number;
  readonly key: string;
  readonly invokedAt: number;
  /** The read index it was answered with, and the tick that index was applied (by then). */
  index: number;
  returnedAt: number;
}

export class SimHistory {
  private nextOpId = 0;
  private readonly writes = new Map<string, WriteRecord>();
  private readonly reads = new Map<number, ReadRecord>();
  /** Reads answered with an index no replica has applied yet. */
  private waiting: ReadRecord[] = [];
  /** Per key, the writes that took effect, in log order. */
  private readonly versions = new Map<string, { index: number; value: string }[]>();
  private appliedIndex = 0;

  invokeWrite(command: string, client: number, key: string, tick: number): void {
    this.writes.set(command, {
      id: ++this.nextOpId,
      client,
      key,
      value: command,
      invokedAt: tick + CLIENT_PHASE,
      index: NOT_YET,
      returnedAt: NOT_YET,
    });
  }

  invokeRead(readId: number, client: number, tick: number): void {
    this.reads.set(readId, {
      id: ++this.nextOpId,
      client,
      key: readKey(readId),
      invokedAt: tick + CLIENT_PHASE,
      index: NOT_YET,
      returnedAt: NOT_YET,
    });
  }

  /** Index `index` of the agreed log, holding `commands`, is applied for the first time anywhere. */
  applied(index: number, commands: readonly string[], tick: number): void {
    for (const command of commands) {
      const write = this.writes.get(command);
      // Not ours (a validity violation), or a retry's duplicate.
      if (!write || write.index !== NOT_YET) continue;
      write.index = index;
      write.returnedAt = tick;
      const versions = this.versions.get(write.key) ?? [];
      versions.push({ index, value: write.value });
      this.versions.set(write.key, versions);
    }
    this.appliedIndex = Math.max(this.appliedIndex, index);
    if (this.waiting.length === 0) return;
    for (const read of this.waiting) {
      if (read.index <= this.appliedIndex) read.returnedAt = tick;
    }
    this.waiting = this.waiting.filter((r) => r.returnedAt === NOT_YET);
  }

  /** A replica answered read `readId` with read index `index`. */
  readAnswered(readId: number, index: number, tick: number): void {
    const read = this.reads.get(readId);
    if (!read || read.index !== NOT_YET) return;
    read.index = index;
    if (index <= this.appliedIndex) read.returnedAt = tick;
    else this.waiting.push(read);
  }

  /** Every write, and every read that completed (failed or abandoned reads had no effect). */
  build(): History {
    const entries: HistoryEntry[] = [];
    for (const w of this.writes.values()) {
      const op = { kind: "put", key: w.key, value: w.value } as const;
      const clientId = `c${w.client}`;
      entries.push(
        w.index !== NOT_YET
          ? {
              id: w.id,
              clientId,
              invokeTime: w.invokedAt,
              returnTime: w.returnedAt,
              op,
              result: { status: "ok", index: w.index },
            }
          : {
              id: w.id,
              clientId,
              invokeTime: w.invokedAt,
              returnTime: Number.POSITIVE_INFINITY,
              op,
              result: { status: "unknown" },
            },
      );
    }
    for (const r of this.reads.values()) {
      if (r.returnedAt === NOT_YET) continue;
      entries.push({
        id: r.id,
        clientId: `c${r.client}`,
        invokeTime: r.invokedAt,
        returnTime: r.returnedAt,
        op: { kind: "get", key: r.key },
        result: { status: "ok", value: this.valueAt(r.key, r.index), index: r.index },
      });
    }
    return entries;
  }

  /**
   * The linearizability half of `checkHistory`: the session checks are for
   * sequential reads, which simulated clients do not make, and would cost more
   * than the search itself.
   */
  check(options: CheckOptions = SIM_CHECK_BUDGET): HistoryCheckSummary {
    const history = this.build();
    const lin = checkLinearizability(history, options);
    const count = (verdict: string) => lin.partitions.filter((p) => p.verdict === verdict).length;
    const summary = {
      ops: lin.partitions.reduce((n, p) => n + p.opCount, 0),
      reads: history.filter((e) => e.op.kind === "get").length,
      partitions: lin.partitions.length,
      partitionsOk: count("ok"),
      partitionsUnknown: count("unknown"),
    };
    if (!lin.violation) return summary;
    const v = lin.violation;
    const violation = renderViolation(v)
      .split("\n")[0]!
      .replace(/^NOT LINEARIZABLE on /, "");
    // The shrunk history fails at its end: its last ops show where. The whole
    // report lists every op twice, too long beside the trace.
    const tail = [...v.entries].sort((a, b) => a.invokeTime - b.invokeTime || a.id - b.id);
    const shown = tail.slice(-REPORT_ROWS);
    const report = [
      `the last ${shown.length} of ${v.entries.length} ops (* = in the longest linearizable prefix found):`,
      renderTimeline(shown, new Set(v.longestPrefix)),
    ].join("\n");
    return { ...summary, violation, report };
  }

  /** The key's value in the state after applying entries 1..index of the agreed log. */
  private valueAt(key: string, index: number): string | null {
    const versions = this.versions.get(key) ?? [];
    // The last version at or below `index` (versions are in log order).
    let lo = 0;
    let hi = versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (versions[mid]!.index <= index) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : versions[lo - 1]!.value;
  }
}
