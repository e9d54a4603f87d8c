import type { History, HistoryEntry } from "./history";

/**
 * Session guarantees of sequential reads (DESIGN.md §3), checked from the `index`
 * tokens results carry. A sequential read is answered from a local projection
 * that has applied at least the client's `min-index`, so per client:
 *
 * 1. `index-regressed` (monotonic tokens): if op A of a client returned before op
 *    B of the same client was invoked (program order; real-time precedence, so a
 *    pipelining client is judged only on ops that really were ordered), then
 *    B.index >= A.index. Every acked op with an index counts, reads and writes.
 * 2. `missed-own-write` (read-your-writes): a get of key k invoked after the
 *    client's own acked write to k at index i has result index >= i, and, if the
 *    value it read can be traced to a write (below), that write's index is >= i.
 * 3. `read-went-backwards` (monotonic reads): for two gets of k by one client, A
 *    before B, traced to writes at indices a and b: b >= a.
 *
 * Tracing a value to its write: writes to a key with unique values name the write
 * a read observed. A (key, value) pair traces to a write only if exactly one acked
 * write with an index produced it and no write with an unknown outcome could have
 * produced it (so keys with unknown incr/append, whose values we never saw, are
 * not traced, nor is null). Untraceable reads are still checked by rule 1 and the
 * index part of rule 2. Results without an `index` are skipped by the index rules.
 *
 * Writes to k: put, delete, a cas that succeeded, incr, append, and a txn naming k.
 */

export type SequentialAnomalyKind = "index-regressed" | "missed-own-write" | "read-went-backwards";

export interface SequentialAnomaly {
  readonly kind: SequentialAnomalyKind;
  readonly clientId: string;
  /** The op that set the lower bound (returned before `later` was invoked). */
  readonly earlier: number;
  /** The op that fell below it. */
  readonly later: number;
  readonly key?: string;
  readonly atLeast: number;
  readonly observed: number;
  readonly message: string;
}

export interface SequentialResult {
  readonly ok: boolean;
  readonly anomalies: readonly SequentialAnomaly[];
}

export function checkSequential(history: History): SequentialResult {
  const anomalies: SequentialAnomaly[] = [];
  const traced = traceWrites(history);
  const byClient = new Map<string, HistoryEntry[]>();
  for (const e of history) {
    if (e.result.status !== "ok") continue;
    const list = byClient.get(e.clientId) ?? [];
    list.push(e);
    byClient.set(e.clientId, list);
  }
  for (const [clientId, ops] of byClient) {
    const withIndex = ops.filter((e) => indexOf(e) !== undefined);
    for (const [a, b] of violations(withIndex, withIndex, indexOf, indexOf)) {
      anomalies.push(anomaly("index-regressed", clientId, a, b, undefined, indexOf, indexOf));
    }
    const keys = new Set(ops.flatMap((e) => writtenKeys(e)));
    for (const e of ops) if (e.op.kind === "get") keys.add(e.op.key);
    for (const key of keys) {
      const writes = ops.filter((e) => writtenKeys(e).includes(key) && indexOf(e) !== undefined);
      const reads = ops.filter((e) => e.op.kind === "get" && e.op.key === key);
      const readWriteOf = (e: HistoryEntry) => traced.get(traceKey(key, readValue(e)));
      for (const [w, r] of violations(writes, reads, indexOf, indexOf)) {
        anomalies.push(anomaly("missed-own-write", clientId, w, r, key, indexOf, indexOf));
      }
      // Only report the traced-value form when the index form did not already.
      const seen = new Set(anomalies.map((a) => `${a.earlier}/${a.later}`));
      for (const [w, r] of violations(writes, reads, indexOf, readWriteOf)) {
        if (!seen.has(`${w.id}/${r.id}`)) {
          anomalies.push(anomaly("missed-own-write", clientId, w, r, key, indexOf, readWriteOf));
        }
      }
      for (const [a, b] of violations(reads, reads, readWriteOf, readWriteOf)) {
        anomalies.push(
          anomaly("read-went-backwards", clientId, a, b, key, readWriteOf, readWriteOf),
        );
      }
    }
  }
  return { ok: anomalies.length === 0, anomalies };
}

const indexOf = (e: HistoryEntry): number | undefined =>
  e.result.status === "ok" ? e.result.index : undefined;

const readValue = (e: HistoryEntry): string | null =>
  e.op.kind === "get" && e.result.status === "ok"
    ? (e.result as { value: string | null }).value
    : null;

const traceKey = (key: string, value: string | null): string => JSON.stringify([key, value]);

/** Keys an acked op wrote (a failed cas wrote nothing). */
function writtenKeys(e: HistoryEntry): readonly string[] {
  switch (e.op.kind) {
    case "get":
      return [];
    case "cas":
      return e.result.status === "ok" && !(e.result as { succeeded: boolean }).succeeded
        ? []
        : [e.op.key];
    case "txn":
      return [...e.op.puts.map((p) => p.key), ...e.op.deletes];
    default:
      return [e.op.key];
  }
}

/** (key, value) → index of the one write that produced it; see the module comment. */
function traceWrites(history: History): Map<string, number> {
  const found = new Map<string, number | "ambiguous">();
  const untraceableKeys = new Set<string>();
  const note = (key: string, value: string, index: number | undefined) => {
    const k = traceKey(key, value);
    found.set(k, found.has(k) || index === undefined ? "ambiguous" : index);
  };
  for (const e of history) {
    const acked = e.result.status === "ok";
    const index = indexOf(e);
    const op = e.op;
    switch (op.kind) {
      case "put":
        note(op.key, op.value, index);
        break;
      case "cas":
        if (!acked || (e.result as { succeeded: boolean }).succeeded) note(op.key, op.value, index);
        break;
      case "txn":
        for (const p of op.puts) note(p.key, p.value, index);
        break;
      case "incr":
      case "append":
        if (acked) note(op.key, (e.result as { value: string }).value, index);
        else untraceableKeys.add(op.key);
        break;
      default:
        break;
    }
  }
  const traced = new Map<string, number>();
  for (const [k, v] of found) {
    const key = JSON.parse(k)[0] as string;
    if (v !== "ambiguous" && !untraceableKeys.has(key)) traced.set(k, v);
  }
  return traced;
}

/**
 * Pairs (a, b) with a from `sources`, b from `targets`, a returned before b was
 * invoked, and bound(b) < bound(a) for the largest such bound(a). One pair per
 * offending target, naming the source that set the bound. O(n log n).
 */
function violations(
  sources: readonly HistoryEntry[],
  targets: readonly HistoryEntry[],
  sourceBound: (e: HistoryEntry) => number | undefined,
  targetValue: (e: HistoryEntry) => number | undefined,
): [HistoryEntry, HistoryEntry][] {
  const src = sources
    .filter((e) => sourceBound(e) !== undefined)
    .sort((a, b) => a.returnTime - b.returnTime);
  const tgt = targets
    .filter((e) => targetValue(e) !== undefined)
    .sort((a, b) => a.invokeTime - b.invokeTime);
  const out: [HistoryEntry, HistoryEntry][] = [];
  let best: HistoryEntry | undefined;
  let i = 0;
  for (const b of tgt) {
    while (i < src.length && src[i]!.returnTime <= b.invokeTime) {
      const a = src[i++]!;
      if (a !== b && (best === undefined || sourceBound(a)! > sourceBound(best)!)) best = a;
    }
    if (best !== undefined && best !== b && targetValue(b)! < sourceBound(best)!)
      out.push([best, b]);
  }
  return out;
}

function anomaly(
  kind: SequentialAnomalyKind,
  clientId: string,
  earlier: HistoryEntry,
  later: HistoryEntry,
  key: string | undefined,
  boundOf: (e: HistoryEntry) => number | undefined,
  observedOf: (e: HistoryEntry) => number | undefined,
): SequentialAnomaly {
  const atLeast = boundOf(earlier)!;
  const observed = observedOf(later)!;
  const what =
    kind === "index-regressed"
      ? `returned index ${observed}`
      : observedOf === indexOf
        ? `read ${key} at index ${observed}`
        : `read a value of ${key} written at index ${observed}`;
  const message =
    `client ${clientId}: op #${later.id} ${what}, below index ${atLeast} of its ` +
    `earlier op #${earlier.id} (${kind})`;
  return key === undefined
    ? { kind, clientId, earlier: earlier.id, later: later.id, atLeast, observed, message }
    : { kind, clientId, earlier: earlier.id, later: later.id, key, atLeast, observed, message };
}
