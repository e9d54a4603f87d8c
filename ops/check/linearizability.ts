import { performance } from "node:perf_hooks";
import { effectiveReturn, type History, type HistoryEntry } from "./history";
import { type Partition, partitionHistory } from "./partition";
import { partitionModel } from "./partition-model";
import { type SearchOutcome, searchLinearization } from "./search";
import { shrinkByTime } from "./shrink";

/**
 * The linearizability check of a whole history against the KV model: partition
 * (per key, merged across txns), search each partition with its own budget, and on
 * violation shrink the smallest failing partition to its earliest failing prefix.
 *
 * Partitions are checked one after another on the calling thread. That is simple
 * and deterministic; the search is CPU-bound, so a worker pool would be the next
 * step if real histories make it worthwhile (partitions are independent inputs).
 */

export type Verdict = "ok" | "violation" | "unknown";

export interface CheckOptions {
  /** Search iterations per partition before giving up with `unknown`. */
  readonly maxStepsPerPartition?: number;
  /** Wall-clock milliseconds per partition before giving up with `unknown`. */
  readonly maxMillisPerPartition?: number;
  /** Shrink the reported violation to its earliest failing prefix (default true). */
  readonly shrink?: boolean;
}

export const DEFAULT_MAX_STEPS = 2_000_000;
export const DEFAULT_MAX_MILLIS = 30_000;

export interface PartitionReport {
  readonly keys: readonly string[];
  readonly opCount: number;
  readonly verdict: Verdict;
  readonly steps: number;
  readonly millis: number;
  /** Set when verdict is `unknown`. */
  readonly budgetExhausted?: "steps" | "time";
  /** Op ids in a valid linearization order (verdict `ok`). */
  readonly linearization?: readonly number[];
  /** Op ids of the longest linearizable prefix found (verdict `violation`/`unknown`). */
  readonly longestPrefix?: readonly number[];
}

export interface Violation {
  readonly keys: readonly string[];
  /** The shortest failing sub-history found: a time prefix of the smallest failing partition. */
  readonly entries: History;
  /** Ops invoked after this time were cut, ops outstanding at it made unknown; +∞ if uncut. */
  readonly cutoff: number;
  /** Size of the whole failing partition before shrinking. */
  readonly partitionOpCount: number;
  /** Op ids of the longest linearizable prefix of `entries` found. */
  readonly longestPrefix: readonly number[];
}

export interface LinearizabilityResult {
  /** `unknown` only when some budget ran out and no partition violated. */
  readonly verdict: Verdict;
  readonly partitions: readonly PartitionReport[];
  readonly violation?: Violation;
}

export function checkLinearizability(
  history: History,
  options: CheckOptions = {},
): LinearizabilityResult {
  const partitions = partitionHistory(history);
  const reports = partitions.map((p) => checkPartition(p, options));
  const failing = partitions
    .map((p, i) => ({ partition: p, report: reports[i]! }))
    .filter((x) => x.report.verdict === "violation")
    .sort((a, b) => a.report.opCount - b.report.opCount)[0];
  if (failing !== undefined) {
    return {
      verdict: "violation",
      partitions: reports,
      violation: explain(failing.partition, failing.report, options),
    };
  }
  const verdict = reports.some((r) => r.verdict === "unknown") ? "unknown" : "ok";
  return { verdict, partitions: reports };
}

export function checkPartition(partition: Partition, options: CheckOptions = {}): PartitionReport {
  const started = performance.now();
  const { outcome, ids } = search(partition.keys, partition.entries, options, started);
  const base = {
    keys: partition.keys,
    opCount: partition.entries.length,
    verdict: outcome.verdict,
    steps: outcome.steps,
    millis: performance.now() - started,
  };
  switch (outcome.verdict) {
    case "ok":
      return { ...base, linearization: outcome.order.map((i) => ids[i]!) };
    case "violation":
      return { ...base, longestPrefix: outcome.longestPrefix.map((i) => ids[i]!) };
    case "unknown":
      return {
        ...base,
        budgetExhausted: outcome.reason,
        longestPrefix: outcome.longestPrefix.map((i) => ids[i]!),
      };
  }
}

function search(
  keys: readonly string[],
  entries: readonly HistoryEntry[],
  options: CheckOptions,
  started: number,
): { outcome: SearchOutcome; ids: readonly number[] } {
  const ops = entries.map((e) => ({ entry: e, invoke: e.invokeTime, ret: effectiveReturn(e) }));
  const outcome = searchLinearization(ops, partitionModel(keys), {
    maxSteps: options.maxStepsPerPartition ?? DEFAULT_MAX_STEPS,
    deadline: started + (options.maxMillisPerPartition ?? DEFAULT_MAX_MILLIS),
  });
  return { outcome, ids: entries.map((e) => e.id) };
}

function explain(partition: Partition, report: PartitionReport, options: CheckOptions): Violation {
  const whole = {
    keys: partition.keys,
    entries: partition.entries,
    cutoff: Number.POSITIVE_INFINITY,
    partitionOpCount: partition.entries.length,
    longestPrefix: report.longestPrefix ?? [],
  };
  if (options.shrink === false) return whole;
  const fails = (h: History): boolean =>
    search(partition.keys, h, options, performance.now()).outcome.verdict === "violation";
  const { cutoff, entries } = shrinkByTime(partition.entries, fails);
  if (entries === partition.entries) return whole;
  const { outcome, ids } = search(partition.keys, entries, options, performance.now());
  const prefix = outcome.verdict === "ok" ? [] : outcome.longestPrefix.map((i) => ids[i]!);
  return { ...whole, entries, cutoff, longestPrefix: prefix };
}
