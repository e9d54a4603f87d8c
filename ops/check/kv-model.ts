import type { Op, Result } from "./history";

/**
 * The sequential specification of the key-value store: what one operation does to
 * the state (a value, string or null for absent, per key) and what it returns.
 * Both the checker and the test generators use this one definition, so a generated
 * history is linearizable by the same semantics the checker enforces.
 *
 * - get → the value or null
 * - put → ok
 * - delete → whether the key existed; the key becomes absent
 * - cas(expected, value) → whether the current value equals `expected` (null:
 *   "must be absent"); on success the key becomes `value`
 * - incr(by) → the new value; an absent key counts from 0. On a value that is not
 *   an integer (decimal digits with an optional leading minus) the op fails with no
 *   effect; a history drops such ops, so a known-result incr there is "not applicable".
 * - append(suffix) → the new value; an absent key counts as ""
 * - txn(puts, deletes) → ok; all puts, then all deletes, in one atomic step
 */

export type Write = readonly [key: string, value: string | null];

/** An acknowledged result without its log index (the model knows no indices). */
export type ModelResult = Exclude<Result, { readonly status: "unknown" }>;

export type Effect =
  | { readonly kind: "applied"; readonly result: ModelResult; readonly writes: readonly Write[] }
  /** The op fails without effect (incr on a non-integer); such ops are not in histories. */
  | { readonly kind: "failed" };

const INTEGER = /^-?\d+$/;

/** Runs `op` against the state seen through `read`; never mutates anything. */
export function applyOp(op: Op, read: (key: string) => string | null): Effect {
  switch (op.kind) {
    case "get":
      return applied({ status: "ok", value: read(op.key) }, []);
    case "put":
      return applied({ status: "ok" }, [[op.key, op.value]]);
    case "delete":
      return applied({ status: "ok", deleted: read(op.key) !== null }, [[op.key, null]]);
    case "cas": {
      const succeeded = read(op.key) === op.expected;
      return applied({ status: "ok", succeeded }, succeeded ? [[op.key, op.value]] : []);
    }
    case "incr": {
      const current = read(op.key);
      if (current !== null && !INTEGER.test(current)) return { kind: "failed" };
      // BigInt: a counter must not silently lose precision past 2^53.
      const value = String(BigInt(current ?? "0") + BigInt(op.by));
      return applied({ status: "ok", value }, [[op.key, value]]);
    }
    case "append": {
      const value = (read(op.key) ?? "") + op.suffix;
      return applied({ status: "ok", value }, [[op.key, value]]);
    }
    case "txn": {
      const writes: Write[] = op.puts.map((p) => [p.key, p.value] as const);
      for (const key of op.deletes) writes.push([key, null]);
      return applied({ status: "ok" }, writes);
    }
  }
}

function applied(result: ModelResult, writes: readonly Write[]): Effect {
  return { kind: "applied", result, writes };
}

/**
 * Whether an observed result agrees with the model's result for the same op.
 * `unknown` agrees with anything; the log index is not part of the comparison.
 */
export function resultMatches(op: Op, observed: Result, expected: ModelResult): boolean {
  if (observed.status === "unknown") return true;
  const o = observed as unknown as Record<string, unknown>;
  const e = expected as unknown as Record<string, unknown>;
  switch (op.kind) {
    case "get":
    case "incr":
    case "append":
      return o["value"] === e["value"];
    case "delete":
      return o["deleted"] === e["deleted"];
    case "cas":
      return o["succeeded"] === e["succeeded"];
    case "put":
    case "txn":
      return true;
  }
}
