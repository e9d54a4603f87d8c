import test from "ava";
import { validateHistory } from "../../ops/check/history";
import { HistoryParseError, parseHistory, serializeHistory } from "../../ops/check/history-jsonl";
import { applyOp } from "../../ops/check/kv-model";
import { hb, UNKNOWN } from "./check-fixtures";

test("JSON lines round-trip every op kind, unknown outcomes and +∞", (t) => {
  const h = hb()
    .get("c1", 0, 1, "x", null, 3)
    .put("c1", 2, 3, "x", "1", 4)
    .delete("c2", 4, 5, "x", true)
    .cas("c2", 6, 7, "x", null, "v", UNKNOWN)
    .incr("c3", 8, 9, "n", 5, "5")
    .append("c3", 10, 11, "s", "ab", "ab")
    .txn("c1", 12, 13, { a: "1" }, ["b"], 9)
    .seqGet("c1", 14, 15, "a", "1", 9).entries;
  const text = serializeHistory(h);
  t.is(text.trim().split("\n").length, h.length);
  t.true(text.includes('"returnTime":null'));
  t.deepEqual(parseHistory(text), h);
});

test("parse errors name the line, and every problem is reported", (t) => {
  const good = serializeHistory(hb().put("c1", 0, 1, "x", "1").entries).trim();
  const text = [
    good,
    "",
    "{not json",
    good,
    '{"id":7,"clientId":"c","invokeTime":0,"returnTime":1,"op":{"kind":"nope"},"result":{}}',
  ].join("\n");
  const err = t.throws(() => parseHistory(text), { instanceOf: HistoryParseError });
  t.true(err.problems.some((p) => p.startsWith("line 3:")));
  t.true(err.problems.some((p) => p.startsWith("line 5:") && p.includes("op.kind")));
  t.true(err.problems.some((p) => p.includes("duplicate id")));
});

test("validation rejects histories the checker cannot interpret", (t) => {
  const base = hb().put("c1", 0, 10, "x", "1").entries[0]!;
  const problems = (e: object) => validateHistory([{ ...base, ...e } as typeof base]);
  t.deepEqual(problems({}), []);
  t.true(problems({ returnTime: -1 }).some((p) => p.includes("returnTime")));
  t.true(problems({ returnTime: Number.POSITIVE_INFINITY }).some((p) => p.includes("finite")));
  t.true(
    problems({ op: { kind: "get", key: "x" }, result: { status: "ok" } }).some((p) =>
      p.includes("get needs a value"),
    ),
  );
  t.true(problems({ op: { kind: "txn", puts: [], deletes: [] } }).some((p) => p.includes("empty")));
  // An unknown outcome may carry the time the client gave up.
  t.deepEqual(problems({ result: { status: "unknown" } }), []);
});

test("the model: incr counts from 0, append from empty, txn puts then deletes", (t) => {
  const empty = () => null;
  t.deepEqual(applyOp({ kind: "incr", key: "n", by: 3 }, empty), {
    kind: "applied",
    result: { status: "ok", value: "3" },
    writes: [["n", "3"]],
  });
  t.deepEqual(
    applyOp({ kind: "incr", key: "n", by: 1 }, () => "x1"),
    { kind: "failed" },
  );
  const big = applyOp({ kind: "incr", key: "n", by: 1 }, () => "9007199254740993");
  t.deepEqual(big.kind === "applied" && big.writes, [["n", "9007199254740994"]]);
  const app = applyOp({ kind: "append", key: "s", suffix: "z" }, empty);
  t.deepEqual(app.kind === "applied" && app.writes, [["s", "z"]]);
  const txn = applyOp(
    { kind: "txn", puts: [{ key: "a", value: "1" }], deletes: ["a", "b"] },
    empty,
  );
  t.deepEqual(txn.kind === "applied" && txn.writes, [
    ["a", "1"],
    ["a", null],
    ["b", null],
  ]);
});
