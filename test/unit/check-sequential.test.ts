import test from "ava";
import { checkSequential } from "../../ops/check/sequential";
import { hb } from "./check-fixtures";

const kinds = (h: ReturnType<typeof hb>) => checkSequential(h.entries).anomalies.map((a) => a.kind);

test("a client whose tokens and reads only move forward is fine", (t) => {
  const h = hb()
    .put("c1", 0, 1, "x", "1", 5)
    .seqGet("c1", 2, 3, "x", "1", 5)
    .seqGet("c1", 4, 5, "x", "2", 7)
    .put("c2", 0, 1, "x", "2", 7)
    .seqGet("c3", 2, 3, "y", null, 2); // another client may lag behind: not its business
  t.deepEqual(checkSequential(h.entries), { ok: true, anomalies: [] });
});

test("an index token that goes backwards in program order is reported", (t) => {
  const h = hb().seqGet("c1", 0, 1, "x", null, 9).seqGet("c1", 2, 3, "y", null, 4);
  const r = checkSequential(h.entries);
  t.false(r.ok);
  t.like(r.anomalies[0], {
    kind: "index-regressed",
    clientId: "c1",
    earlier: 0,
    later: 1,
    atLeast: 9,
    observed: 4,
  });
});

test("overlapping ops of one client are not ordered, so not compared", (t) => {
  const h = hb().seqGet("c1", 0, 10, "x", null, 9).seqGet("c1", 5, 12, "y", null, 4);
  t.true(checkSequential(h.entries).ok);
});

test("read-your-writes by index: a read after the own write reflects it", (t) => {
  const h = hb().put("c1", 0, 1, "x", "1", 10).seqGet("c1", 2, 3, "x", null, 8);
  t.true(kinds(h).includes("missed-own-write"));
  // Another client's write sets no bound for c1's reads.
  const other = hb().put("c2", 0, 1, "x", "1", 10).seqGet("c1", 2, 3, "x", null, 8);
  t.true(checkSequential(other.entries).ok);
});

test("read-your-writes by value: reading an older write's value is caught without tokens", (t) => {
  const h = hb()
    .put("c2", 0, 1, "x", "old", 3)
    .put("c1", 2, 3, "x", "mine", 6)
    .get("c1", 4, 5, "x", "old");
  const r = checkSequential(h.entries);
  t.like(r.anomalies[0], { kind: "missed-own-write", key: "x", atLeast: 6, observed: 3 });
});

test("monotonic reads: a later read may not return an older write's value", (t) => {
  const h = hb()
    .put("c2", 0, 1, "x", "v1", 3)
    .put("c2", 2, 3, "x", "v2", 4)
    .get("c1", 4, 5, "x", "v2")
    .get("c1", 6, 7, "x", "v1");
  t.deepEqual(kinds(h), ["read-went-backwards"]);
});

test("values written twice cannot be traced to one write, so are not judged", (t) => {
  const h = hb()
    .put("c2", 0, 1, "x", "same", 3)
    .put("c2", 2, 3, "x", "v2", 4)
    .put("c2", 4, 5, "x", "same", 5)
    .get("c1", 6, 7, "x", "v2")
    .get("c1", 8, 9, "x", "same");
  t.true(checkSequential(h.entries).ok);
});
