import test from "ava";
import fc from "fast-check";
import { effectiveReturn, type History, type HistoryEntry, type Op } from "../../ops/check/history";
import { applyOp, resultMatches } from "../../ops/check/kv-model";
import { checkLinearizability } from "../../ops/check/linearizability";

/**
 * The search prunes aggressively (cache, forced reads, independence of keys,
 * unknown ops last). Here its verdict is compared with a brute-force oracle, the
 * definition itself: some permutation that respects real time and the model. The
 * histories are small and random, results drawn from a tiny pool of values, so
 * about half of them are not linearizable.
 */

function bruteForce(h: History): boolean {
  const n = h.length;
  const used = new Array<boolean>(n).fill(false);
  const go = (depth: number, state: Map<string, string | null>): boolean => {
    if (depth === n) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const e = h[i]!;
      // Every op not yet placed must not have returned before e was invoked.
      if (h.some((o, j) => !used[j] && j !== i && effectiveReturn(o) < e.invokeTime)) continue;
      const effect = applyOp(e.op, (k) => state.get(k) ?? null);
      let next = state;
      if (effect.kind === "failed") {
        if (e.result.status !== "unknown") continue;
      } else {
        if (!resultMatches(e.op, e.result, effect.result)) continue;
        next = new Map(state);
        for (const [k, v] of effect.writes) next.set(k, v);
      }
      used[i] = true;
      if (go(depth + 1, next)) return true;
      used[i] = false;
    }
    return false;
  };
  return go(0, new Map());
}

const value = fc.constantFrom<string | null>(null, "1", "2", "3");
const key = fc.constantFrom("a", "b", "c");

const opAndResult = fc.oneof(
  fc.record({ op: fc.record({ kind: fc.constant("get" as const), key }), r: fc.record({ value }) }),
  fc.record({
    op: fc.record({
      kind: fc.constant("put" as const),
      key,
      value: fc.constantFrom("1", "2", "3"),
    }),
    r: fc.constant({}),
  }),
  fc.record({
    op: fc.record({ kind: fc.constant("delete" as const), key }),
    r: fc.record({ deleted: fc.boolean() }),
  }),
  fc.record({
    op: fc.record({
      kind: fc.constant("cas" as const),
      key,
      expected: value,
      value: fc.constantFrom("1", "2", "3"),
    }),
    r: fc.record({ succeeded: fc.boolean() }),
  }),
  fc.record({
    op: fc.record({ kind: fc.constant("incr" as const), key, by: fc.constantFrom(1, 2) }),
    r: fc.record({ value: fc.constantFrom("1", "2", "3") }),
  }),
  fc.record({
    op: fc.record({
      kind: fc.constant("txn" as const),
      puts: fc.array(fc.record({ key, value: fc.constantFrom("1", "2", "3") }), { maxLength: 2 }),
      deletes: fc.array(key, { maxLength: 1 }),
    }),
    r: fc.constant({}),
  }),
);

const entry = fc.record({
  client: fc.nat(3),
  start: fc.nat(20),
  length: fc.nat(12),
  unknown: fc.nat(5),
  or: opAndResult,
});

const smallHistory = fc.array(entry, { minLength: 1, maxLength: 7 }).map((es) =>
  es
    .filter((e) => e.or.op.kind !== "txn" || e.or.op.puts.length + e.or.op.deletes.length > 0)
    .map((e, id): HistoryEntry => {
      const unknown = e.unknown === 0;
      return {
        id,
        clientId: `c${e.client}`,
        invokeTime: e.start,
        returnTime: unknown ? Number.POSITIVE_INFINITY : e.start + e.length,
        op: e.or.op as Op,
        result: unknown ? { status: "unknown" } : { status: "ok", ...e.or.r },
      } as HistoryEntry;
    }),
);

test("the pruned search agrees with brute force on small random histories", (t) => {
  let violations = 0;
  fc.assert(
    fc.property(smallHistory, (h) => {
      const expected = bruteForce(h) ? "ok" : "violation";
      if (expected === "violation") violations++;
      return checkLinearizability(h).verdict === expected;
    }),
    { numRuns: 3000 },
  );
  // The generator must exercise both answers, or this test proves little.
  t.true(violations > 300, `only ${violations} violating histories`);
});
