import test from "ava";
import type { History } from "../../ops/check/history";
import { checkLinearizability } from "../../ops/check/linearizability";
import { hb, UNKNOWN } from "./check-fixtures";

const verdict = (h: History) => checkLinearizability(h).verdict;

// --- linearizable histories pass -------------------------------------------------

test("a sequential history of every op kind is linearizable", (t) => {
  const h = hb()
    .get("c1", 0, 1, "x", null)
    .put("c1", 2, 3, "x", "1")
    .get("c1", 4, 5, "x", "1")
    .incr("c1", 6, 7, "x", 2, "3")
    .append("c1", 8, 9, "x", "a", "3a")
    .cas("c1", 10, 11, "x", "3a", "z", true)
    .cas("c1", 12, 13, "x", "3a", "w", false)
    .delete("c1", 14, 15, "x", true)
    .delete("c1", 16, 17, "x", false)
    .cas("c1", 18, 19, "x", null, "n", true)
    .append("c1", 20, 21, "y", "s", "s")
    .incr("c1", 22, 23, "z", -4, "-4").entries;
  t.is(verdict(h), "ok");
});

test("overlapping ops may take effect in either order", (t) => {
  // The read overlaps the write: it may see the value before or after it.
  t.is(verdict(hb().put("c1", 0, 10, "x", "1").get("c2", 2, 5, "x", null).entries), "ok");
  t.is(verdict(hb().put("c1", 0, 10, "x", "1").get("c2", 2, 5, "x", "1").entries), "ok");
  // Two concurrent writes, then reads that agree on the later one being "1".
  const h = hb()
    .put("c1", 0, 10, "x", "1")
    .put("c2", 0, 10, "x", "2")
    .get("c3", 11, 12, "x", "1")
    .get("c1", 13, 14, "x", "1").entries;
  t.is(verdict(h), "ok");
});

test("ops that touch at one instant count as concurrent", (t) => {
  t.is(verdict(hb().get("c2", 10, 20, "x", null).put("c1", 0, 10, "x", "1").entries), "ok");
});

test("an unknown outcome may have taken effect", (t) => {
  const h = hb().put("c1", 0, 10, "x", "1", UNKNOWN).get("c2", 100, 110, "x", "1").entries;
  t.is(verdict(h), "ok");
});

test("an unknown outcome may not have taken effect", (t) => {
  const h = hb()
    .put("c1", 0, 10, "x", "1", UNKNOWN)
    .get("c2", 100, 110, "x", null)
    .incr("c3", 0, 0, "n", 1, UNKNOWN)
    .get("c3", 200, 210, "n", null).entries;
  t.is(verdict(h), "ok");
});

test("an unknown op takes effect no earlier than its invocation", (t) => {
  const h = hb().get("c2", 0, 10, "x", "1").put("c1", 20, 30, "x", "1", UNKNOWN).entries;
  t.is(verdict(h), "violation");
});

test("an unknown incr on a non-integer value may simply have failed", (t) => {
  const h = hb()
    .put("c1", 0, 1, "x", "abc")
    .incr("c2", 2, 3, "x", 1, UNKNOWN)
    .get("c1", 4, 5, "x", "abc").entries;
  t.is(verdict(h), "ok");
  // An acknowledged incr cannot have run on a non-integer (callers drop failed ops).
  const bad = hb().put("c1", 0, 1, "x", "abc").incr("c2", 2, 3, "x", 1, "1").entries;
  t.is(verdict(bad), "violation");
});

test("a multi-key txn seen atomically is linearizable", (t) => {
  const h = hb()
    .put("c1", 0, 1, "a", "0")
    .put("c1", 0, 1, "b", "0")
    .txn("c2", 10, 20, { a: "1", b: "1" }, [])
    .get("c3", 12, 14, "a", "0")
    .get("c3", 15, 18, "b", "0")
    .get("c1", 12, 25, "a", "1")
    .txn("c2", 30, 40, { c: "x" }, ["a"])
    .get("c3", 41, 42, "a", null)
    .get("c3", 43, 44, "c", "x").entries;
  t.is(verdict(h), "ok");
});

test("sequential reads and unknown reads do not constrain linearizability", (t) => {
  const h = hb()
    .put("c1", 0, 10, "x", "1")
    .seqGet("c2", 20, 30, "x", null) // stale, but sequential reads may be
    .get("c3", 20, 30, "x", UNKNOWN).entries;
  const r = checkLinearizability(h);
  t.is(r.verdict, "ok");
  t.is(r.partitions[0]!.opCount, 1);
});

// --- non-linearizable histories are caught ---------------------------------------

test("stale read: a read after an acknowledged write misses it", (t) => {
  const h = hb().put("c1", 0, 10, "x", "1").get("c2", 20, 30, "x", null).entries;
  t.is(verdict(h), "violation");
});

test("lost write: two appends both acknowledged, one vanished", (t) => {
  const h = hb()
    .append("c1", 0, 10, "x", "a", "a")
    .append("c2", 5, 15, "x", "b", "b")
    .get("c3", 20, 30, "x", "b").entries;
  t.is(verdict(h), "violation");
  const overwritten = hb()
    .put("c1", 0, 10, "x", "1")
    .put("c2", 20, 30, "x", "2")
    .get("c3", 40, 50, "x", "1").entries;
  t.is(verdict(overwritten), "violation");
});

test("double increment: one incr applied twice", (t) => {
  const h = hb().incr("c1", 0, 10, "x", 1, "1").get("c2", 20, 30, "x", "2").entries;
  t.is(verdict(h), "violation");
  const twice = hb().incr("c1", 0, 10, "x", 1, "1").incr("c2", 0, 10, "x", 1, "1").entries;
  t.is(verdict(twice), "violation");
});

test("a txn observed half-applied is caught, though each key alone looks fine", (t) => {
  const h = hb()
    .put("c1", 0, 1, "a", "0")
    .put("c1", 0, 1, "b", "0")
    .txn("c2", 10, 20, { a: "1", b: "1" }, [])
    .get("c3", 11, 13, "a", "1")
    .get("c3", 14, 16, "b", "0").entries;
  const r = checkLinearizability(h);
  t.is(r.verdict, "violation");
  t.deepEqual(r.violation?.keys, ["a", "b"]);
  // The same history with the txn split into two independent puts is fine: the
  // merge of keys linked by the txn is what catches it.
  const split = hb()
    .put("c1", 0, 1, "a", "0")
    .put("c1", 0, 1, "b", "0")
    .put("c2", 10, 20, "a", "1")
    .put("c2", 10, 20, "b", "1")
    .get("c3", 11, 13, "a", "1")
    .get("c3", 14, 16, "b", "0").entries;
  t.is(verdict(split), "ok");
});

test("a read that sees a value before its write was invoked", (t) => {
  const h = hb().get("c2", 0, 10, "x", "1").put("c1", 20, 30, "x", "1").entries;
  t.is(verdict(h), "violation");
});

test("wrong outputs of cas and delete are caught", (t) => {
  t.is(verdict(hb().cas("c1", 0, 1, "x", null, "1", false).entries), "violation");
  t.is(verdict(hb().cas("c1", 0, 1, "x", "0", "1", true).entries), "violation");
  t.is(verdict(hb().delete("c1", 0, 1, "x", true).entries), "violation");
  const h = hb().put("c1", 0, 1, "x", "1").delete("c1", 2, 3, "x", false).entries;
  t.is(verdict(h), "violation");
});

// --- result shape ----------------------------------------------------------------

test("ok partitions carry a linearization that respects real time", (t) => {
  const h = hb()
    .put("c1", 0, 10, "x", "1")
    .put("c2", 5, 15, "x", "2")
    .get("c3", 20, 30, "x", "1").entries;
  const r = checkLinearizability(h);
  t.is(r.verdict, "ok");
  t.deepEqual(r.partitions[0]!.linearization, [1, 0, 2]);
});

test("the violation reported is the smallest failing partition, with a readable prefix", (t) => {
  const h = hb()
    .put("c1", 0, 10, "big", "1")
    .put("c1", 11, 20, "big", "2")
    .get("c1", 21, 30, "big", "1")
    .put("c1", 0, 10, "small", "1")
    .get("c2", 20, 30, "small", null)
    .put("c1", 0, 10, "fine", "1").entries;
  const r = checkLinearizability(h);
  t.is(r.verdict, "violation");
  t.is(r.partitions.filter((p) => p.verdict === "violation").length, 2);
  t.deepEqual(r.violation?.keys, ["small"]);
  t.deepEqual(r.violation?.longestPrefix, [3]);
});

test("a violation is shrunk to the earliest failing time prefix", (t) => {
  const b = hb().put("c1", 0, 10, "x", "0").get("c2", 20, 30, "x", "stale-never-written");
  for (let i = 1; i <= 30; i++) b.put("c1", 40 + 10 * i, 45 + 10 * i, "x", `${i}`);
  const r = checkLinearizability(b.entries);
  t.is(r.verdict, "violation");
  const v = r.violation!;
  t.is(v.partitionOpCount, 32);
  t.is(v.entries.length, 2);
  t.is(v.cutoff, 30);
  t.is(checkLinearizability(v.entries).verdict, "violation");
  const unshrunk = checkLinearizability(b.entries, { shrink: false }).violation!;
  t.is(unshrunk.entries.length, 32);
  t.is(unshrunk.cutoff, Number.POSITIVE_INFINITY);
});

// --- budgets ---------------------------------------------------------------------

/** Many concurrent writes and an impossible final read: a violation, but only after a huge search. */
function hardHistory(writes: number): History {
  const b = hb();
  for (let i = 0; i < writes; i++) b.put(`c${i}`, 0, 100, "x", `v${i}`, UNKNOWN);
  for (let i = 0; i < writes; i++) b.incr(`d${i}`, 0, 100, "y", 1, UNKNOWN);
  for (let i = 0; i < writes; i++) b.txn(`e${i}`, 0, 100, { x: `t${i}`, y: "5" }, []);
  return b.get("r", 101, 102, "x", "never-written").entries;
}

test("a partition that exhausts its step budget is unknown, not ok", (t) => {
  const r = checkLinearizability(hardHistory(12), { maxStepsPerPartition: 500 });
  t.is(r.verdict, "unknown");
  t.is(r.partitions[0]!.budgetExhausted, "steps");
  t.true(r.partitions[0]!.steps > 500);
  t.is(r.violation, undefined);
});

test("a partition that exhausts its time budget is unknown", (t) => {
  const r = checkLinearizability(hardHistory(14), { maxMillisPerPartition: 1 });
  t.is(r.verdict, "unknown");
  t.is(r.partitions[0]!.budgetExhausted, "time");
});

test("a violation elsewhere wins over an unknown partition", (t) => {
  const stale = hb().put("c1", 0, 10, "z", "1").get("c2", 20, 30, "z", null).entries;
  const h = [...hardHistory(12), ...stale.map((e) => ({ ...e, id: e.id + 1000 }))];
  const r = checkLinearizability(h, { maxStepsPerPartition: 500 });
  t.is(r.verdict, "violation");
  t.deepEqual(r.violation?.keys, ["z"]);
  t.deepEqual(r.partitions.map((p) => p.verdict).sort(), ["unknown", "violation"]);
});
