import test from "ava";
import { readKey, SimHistory } from "./sim-history";

// Read ids 3 and 6 ask for k0, the key the writes below use.
const K0_READS = [3, 6] as const;

test("a read that misses a write acknowledged before it was sent is not linearizable", (t) => {
  t.is(readKey(K0_READS[0]), "k0");
  const h = new SimHistory();
  h.invokeWrite("c0.1", 0, "k0", 1);
  h.applied(1, ["c0.1"], 3);
  h.invokeRead(K0_READS[0], 1, 4);
  h.readAnswered(K0_READS[0], 0, 5); // read index 0: the state before c0.1
  const summary = h.check();
  t.is(summary.ops, 2);
  t.regex(summary.violation ?? "", /^key\(s\) k0: 2 of 2 ops/);
  t.regex(summary.report ?? "", /^the last 2 of 2 ops/);
  t.regex(summary.report ?? "", /get\(k0\)\s+null @0/);
});

test("a read waits for its index to be applied and sees the log's state there", (t) => {
  const h = new SimHistory();
  h.invokeWrite("c0.1", 0, "k0", 1);
  h.invokeWrite("c1.1", 1, "k0", 1);
  h.applied(1, ["c0.1"], 3);
  h.invokeRead(K0_READS[0], 2, 3);
  h.readAnswered(K0_READS[0], 2, 4); // index 2 is not applied anywhere yet
  h.invokeRead(K0_READS[1], 2, 5);
  h.readAnswered(K0_READS[1], 9, 6); // never applied in this run: no answer, no entry
  h.applied(2, ["c1.1"], 8);
  const reads = h.build().filter((e) => e.op.kind === "get");
  t.deepEqual(
    reads.map((e) => [e.invokeTime, e.returnTime, e.result]),
    [[3.5, 8, { status: "ok", value: "c1.1", index: 2 }]],
  );
  t.like(h.check(), { ops: 3, reads: 1, partitions: 1, partitionsOk: 1 });
});

test("a command chosen twice takes effect once, at its first index", (t) => {
  const h = new SimHistory();
  h.invokeWrite("c0.1", 0, "k0", 1);
  h.invokeWrite("c1.1", 1, "k0", 1);
  h.invokeWrite("c2.1", 2, "k0", 1);
  h.applied(1, ["c0.1"], 3);
  h.applied(2, ["c1.1"], 4);
  h.applied(3, ["c2.1", "c0.1"], 6); // a retry of c0.1 chosen again, after c2.1 in one batch
  h.invokeRead(K0_READS[0], 3, 4);
  h.readAnswered(K0_READS[0], 2, 5);
  h.invokeRead(K0_READS[1], 3, 7);
  h.readAnswered(K0_READS[1], 3, 8);
  const history = h.build();
  t.like(
    history.find((e) => e.op.kind === "put" && e.op.value === "c0.1"),
    { returnTime: 3, result: { status: "ok", index: 1 } },
  );
  t.deepEqual(
    history.filter((e) => e.op.kind === "get").map((e) => e.result),
    [
      { status: "ok", value: "c1.1", index: 2 },
      { status: "ok", value: "c2.1", index: 3 },
    ],
  );
  const summary = h.check();
  t.like(summary, { ops: 5, partitionsOk: 1 });
  t.is(summary.violation, undefined);
});

test("a write never applied is unknown: it may or may not have taken effect", (t) => {
  const h = new SimHistory();
  h.invokeWrite("c0.1", 0, "k0", 1);
  h.invokeWrite("c0.2", 0, "k0", 2);
  h.applied(1, ["c0.1"], 3);
  const [, lost] = h.build();
  t.like(lost, { returnTime: Number.POSITIVE_INFINITY, result: { status: "unknown" } });
  t.like(h.check(), { ops: 2, partitionsOk: 1 });
});
