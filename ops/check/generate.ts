import type { HistoryEntry, Op } from "./history";
import { applyOp } from "./kv-model";

/**
 * Histories that are linearizable by construction, for property tests and the
 * benchmark: each planned op has a real-time interval and a linearization point
 * inside it; ops are run through the sequential KV model in point order, and the
 * observed results are the model's. Log indices are assigned in the same order
 * (one per write; a read reports the last index applied), so the histories also
 * satisfy the sequential session guarantees.
 */

export type Outcome =
  /** Acknowledged with the model's result. */
  | "known"
  /** Took effect at its point, but the client never learned the result. */
  | "unknown-applied"
  /** Never took effect (lost before reaching the leader); the client timed out. */
  | "unknown-lost";

export interface PlannedOp {
  readonly clientId: string;
  readonly invokeTime: number;
  /** invokeTime <= point <= returnTime. */
  readonly point: number;
  readonly returnTime: number;
  /** A function sees the state at its point (e.g. a cas expecting the current value). */
  readonly op: Op | ((read: (key: string) => string | null) => Op);
  readonly outcome: Outcome;
}

/** Ids are positions in `plan`. An incr that would fail is dropped, as callers do. */
export function buildHistory(plan: readonly PlannedOp[]): HistoryEntry[] {
  const state = new Map<string, string | null>();
  const read = (key: string): string | null => state.get(key) ?? null;
  const order = plan.map((p, id) => ({ p, id })).sort((a, b) => a.p.point - b.p.point);
  const entries: HistoryEntry[] = [];
  let logIndex = 0;
  for (const { p, id } of order) {
    const op = typeof p.op === "function" ? p.op(read) : p.op;
    const base = { id, clientId: p.clientId, invokeTime: p.invokeTime, returnTime: p.returnTime };
    if (p.outcome === "unknown-lost") {
      entries.push({ ...base, op, result: { status: "unknown" } } as HistoryEntry);
      continue;
    }
    const effect = applyOp(op, read);
    if (effect.kind === "failed") continue;
    for (const [k, v] of effect.writes) state.set(k, v);
    if (op.kind !== "get") logIndex++;
    const result =
      p.outcome === "known" ? { ...effect.result, index: logIndex } : { status: "unknown" };
    entries.push({ ...base, op, result } as HistoryEntry);
  }
  return entries.sort((a, b) => a.id - b.id);
}

export interface RandomHistoryOptions {
  readonly ops: number;
  readonly keys: number;
  readonly clients: number;
  /** Fraction of ops whose outcome is unknown (half applied, half lost). */
  readonly unknownRate?: number;
  /** Fraction of ops that are two-key txns. */
  readonly txnRate?: number;
}

/**
 * A realistic random history: each client runs its ops back to back (a client is
 * sequential), with random latencies, so concurrency is at most `clients`. Values
 * written are unique. Deterministic per seed.
 */
export function randomHistory(seed: number, o: RandomHistoryOptions): HistoryEntry[] {
  const rnd = mulberry32(seed);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const key = (): string => `k${pick(o.keys)}`;
  const clock = new Array<number>(o.clients).fill(0);
  const plan: PlannedOp[] = [];
  for (let i = 0; i < o.ops; i++) {
    const c = pick(o.clients);
    const invokeTime = clock[c]! + pick(5);
    const returnTime = invokeTime + 1 + pick(30);
    clock[c] = returnTime;
    const point = invokeTime + rnd() * (returnTime - invokeTime);
    const u = rnd();
    const outcome: Outcome =
      u < (o.unknownRate ?? 0) / 2
        ? "unknown-applied"
        : u < (o.unknownRate ?? 0)
          ? "unknown-lost"
          : "known";
    plan.push({
      clientId: `c${c}`,
      invokeTime,
      point,
      returnTime,
      op: randomOp(i, pick, key, o),
      outcome,
    });
  }
  return buildHistory(plan);
}

function randomOp(
  i: number,
  pick: (n: number) => number,
  key: () => string,
  o: RandomHistoryOptions,
): PlannedOp["op"] {
  if (pick(1000) < (o.txnRate ?? 0) * 1000) {
    return { kind: "txn", puts: [{ key: key(), value: `t${i}` }], deletes: [key()] };
  }
  const k = key();
  switch (pick(7)) {
    case 0:
    case 1:
      return { kind: "get", key: k };
    case 2:
      return { kind: "put", key: k, value: `v${i}` };
    case 3:
      return { kind: "delete", key: k };
    case 4: {
      const hit = pick(2) === 0;
      return (read) => ({ kind: "cas", key: k, expected: hit ? read(k) : `x${i}`, value: `c${i}` });
    }
    case 5:
      return { kind: "append", key: k, suffix: `.${i}` };
    default:
      return { kind: "incr", key: k, by: 1 + pick(3) };
  }
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
