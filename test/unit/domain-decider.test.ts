import test from "ava";
import {
  append,
  applyEntry,
  cas,
  DEFAULT_CONFIG,
  del,
  errorKind,
  incr,
  initialState,
  type KvEvent,
  put,
  putMany,
  readMarker,
} from "../../domain";
import { given, ix, run } from "./domain-helpers";

const putEvent = (key: string, value: string, version: number, index: number): KvEvent => ({
  type: "KeyPut",
  key,
  value,
  version,
  index: ix(index),
});
const done = (clientId: string, requestId: number, index: number, result: object): KvEvent =>
  ({ type: "RequestCompleted", clientId, requestId, index: ix(index), result }) as KvEvent;

test("put creates a key at version 1 and remembers the result", (t) => {
  const { events, result } = given([]).when(put("c", 1, "k", "v"), ix(7));
  t.deepEqual(result, { type: "put", key: "k", value: "v", version: 1, index: ix(7) });
  t.deepEqual(events, [putEvent("k", "v", 1, 7), done("c", 1, 7, result)]);
});

test("put on an existing key bumps the version", (t) => {
  const { result } = given([putEvent("k", "a", 3, 5)]).when(put("c", 1, "k", "b"), ix(9));
  t.like(result, { type: "put", value: "b", version: 4, index: ix(9) });
});

test("delete removes an existing key; a re-created key starts at version 1", (t) => {
  const { state } = run([
    [put("c", 1, "k", "a")],
    [put("c", 2, "k", "b")],
    [del("c", 3, "k")],
    [put("c", 4, "k", "z")],
  ]);
  t.deepEqual(state.getEntry("k"), { value: "z", version: 1, modIndex: ix(4) });
});

test("delete of an absent key reports deleted: false and emits no KeyDeleted", (t) => {
  const { events, result } = given([]).when(del("c", 1, "k"), ix(3));
  t.deepEqual(result, { type: "deleted", key: "k", deleted: false, index: ix(3) });
  t.is(events.length, 1);
  const r2 = given([putEvent("k", "v", 2, 1)]).when(del("c", 1, "k"), ix(3));
  t.like(r2.result, { deleted: true });
  t.deepEqual(r2.events[0], { type: "KeyDeleted", key: "k", version: 2, index: ix(3) });
});

test("putMany applies every put and delete in one entry", (t) => {
  const g = given([putEvent("a", "1", 1, 1), putEvent("d", "x", 4, 1)]);
  const { events, result } = g.when(
    putMany(
      "c",
      1,
      [
        { key: "a", value: "2" },
        { key: "b", value: "3" },
      ],
      ["d", "zz"],
    ),
    ix(2),
  );
  t.deepEqual(result, { type: "txn", index: ix(2) });
  t.deepEqual(
    events.map((e) => e.type),
    ["KeyPut", "KeyPut", "KeyDeleted", "RequestCompleted"],
  );
  t.like(events[0], { key: "a", version: 2 });
  t.like(events[1], { key: "b", version: 1 });
});

test("putMany is all or nothing when one op is invalid", (t) => {
  const g = given([putEvent("a", "1", 1, 1)]);
  const { events, result } = g.when(
    putMany("c", 1, [
      { key: "a", value: "2" },
      { key: "", value: "3" },
    ]),
    ix(2),
  );
  t.like(result, { type: "rejected", code: "EMPTY_KEY" });
  t.false(events.some((e) => e.type === "KeyPut"));
  const big = "x".repeat(DEFAULT_CONFIG.limits.maxValueBytes + 1);
  const r2 = g.when(
    putMany("c", 1, [
      { key: "a", value: "2" },
      { key: "b", value: big },
    ]),
    ix(2),
  );
  t.like(r2.result, { type: "rejected", code: "VALUE_TOO_LARGE" });
  t.false(r2.events.some((e) => e.type === "KeyPut"));
});

test("cas succeeds on a matching value and bumps the version", (t) => {
  const { events, result } = given([putEvent("k", "old", 2, 1)]).when(
    cas("c", 1, "k", "old", "new"),
    ix(5),
  );
  t.deepEqual(result, {
    type: "cas",
    succeeded: true,
    key: "k",
    value: "new",
    version: 3,
    index: ix(5),
  });
  t.deepEqual(events[0], putEvent("k", "new", 3, 5));
});

test("cas fails on a value mismatch and reports the current value", (t) => {
  const { events, result } = given([putEvent("k", "cur", 2, 1)]).when(
    cas("c", 1, "k", "old", "new"),
    ix(5),
  );
  t.deepEqual(result, {
    type: "cas",
    succeeded: false,
    key: "k",
    value: "cur",
    version: 2,
    index: ix(5),
  });
  t.is(events[0]!.type, "CasFailed");
});

test("cas fails on a version mismatch even when the value matches", (t) => {
  const g = given([putEvent("k", "v", 2, 1)]);
  t.like(g.when(cas("c", 1, "k", "v", "w", 1)).result, { succeeded: false, version: 2 });
  t.like(g.when(cas("c", 1, "k", "v", "w", 2)).result, { succeeded: true, version: 3 });
});

test("cas with expected null requires the key to be absent", (t) => {
  t.like(given([]).when(cas("c", 1, "k", null, "v")).result, { succeeded: true, version: 1 });
  t.like(given([putEvent("k", "v", 1, 1)]).when(cas("c", 1, "k", null, "w")).result, {
    succeeded: false,
    value: "v",
  });
  t.like(given([]).when(cas("c", 1, "k", "x", "w")).result, {
    succeeded: false,
    value: null,
    version: 0,
  });
});

test("cas with expectedVersion but expected null is a bad request", (t) => {
  t.like(given([]).when(cas("c", 1, "k", null, "v", 1)).result, {
    type: "rejected",
    code: "BAD_REQUEST",
  });
});

test("incr treats an absent key as 0 and writes canonical decimals", (t) => {
  t.like(given([]).when(incr("c", 1, "n", 5)).result, { type: "incr", value: "5", version: 1 });
  t.like(given([putEvent("n", "007", 1, 1)]).when(incr("c", 1, "n", -10)).result, {
    value: "-3",
    version: 2,
  });
});

test("incr computes exactly beyond 2^53 (BigInt, int64 range)", (t) => {
  const g = given([putEvent("n", "9007199254740993", 1, 1)]);
  t.like(g.when(incr("c", 1, "n", 2)).result, { value: "9007199254740995" });
});

test("incr on a non-integer value is a NOT_AN_INTEGER rejection, state unchanged", (t) => {
  for (const v of ["abc", "1.5", "", " 1", "1e3", "99999999999999999999"]) {
    const { events, result } = given([putEvent("n", v, 1, 1)]).when(incr("c", 1, "n", 1));
    t.like(result, { type: "rejected", code: "NOT_AN_INTEGER" }, v);
    t.is(errorKind("NOT_AN_INTEGER"), "conflict");
    t.false(events.some((e) => e.type === "KeyPut"));
  }
});

test("incr that leaves int64 is an INTEGER_OVERFLOW rejection", (t) => {
  t.like(given([putEvent("n", "9223372036854775807", 1, 1)]).when(incr("c", 1, "n", 1)).result, {
    code: "INTEGER_OVERFLOW",
  });
  t.like(given([putEvent("n", "-9223372036854775808", 1, 1)]).when(incr("c", 1, "n", -1)).result, {
    code: "INTEGER_OVERFLOW",
  });
  t.like(given([putEvent("n", "9223372036854775806", 1, 1)]).when(incr("c", 1, "n", 1)).result, {
    value: "9223372036854775807",
  });
});

test("append treats an absent key as empty and concatenates", (t) => {
  t.like(given([]).when(append("c", 1, "s", "ab")).result, {
    type: "append",
    value: "ab",
    version: 1,
  });
  t.like(given([putEvent("s", "x", 3, 1)]).when(append("c", 1, "s", "yz")).result, {
    value: "xyz",
    version: 4,
  });
});

test("append past the value limit is rejected", (t) => {
  const config = { ...DEFAULT_CONFIG, limits: { ...DEFAULT_CONFIG.limits, maxValueBytes: 4 } };
  t.like(given([putEvent("s", "abc", 1, 1)], config).when(append("c", 1, "s", "de")).result, {
    type: "rejected",
    code: "VALUE_TOO_LARGE",
  });
});

test("read marker changes nothing and answers at its index", (t) => {
  const { events, result } = given([]).when(readMarker("c", 1), ix(42));
  t.deepEqual(result, { type: "read", index: ix(42) });
  t.deepEqual(
    events.map((e) => e.type),
    ["ReadMarked"],
  );
});

test("a duplicate requestId returns the remembered result and changes nothing", (t) => {
  const { state, results } = run([[put("c", 1, "k", "a")], [put("c", 1, "k", "DIFFERENT")]]);
  t.deepEqual(results[1]![0], results[0]![0]);
  t.is(state.getEntry("k")!.value, "a");
  t.is(state.getEntry("k")!.version, 1);
});

test("a stale requestId is rejected with STALE_REQUEST and never applied", (t) => {
  const { state, results } = run([[put("c", 5, "k", "a")], [put("c", 3, "k", "b")]]);
  t.like(results[1]![0], { type: "rejected", code: "STALE_REQUEST", index: ix(2) });
  t.is(state.getEntry("k")!.value, "a");
  t.is(state.getSession("c")!.lastRequestId, 5);
});

test("duplicates within one entry are applied once", (t) => {
  const { state, results } = run([
    [incr("c", 1, "n", 1), incr("c", 1, "n", 1), incr("d", 1, "n", 1)],
  ]);
  t.deepEqual(results[0]![0], results[0]![1]);
  t.is(state.getEntry("n")!.value, "2");
});

test("a rejected request is remembered too (a retry gets the same rejection)", (t) => {
  const { results } = run([
    [put("c", 1, "n", "x")],
    [incr("c", 2, "n", 1)],
    [put("c", 3, "n", "1")],
    [incr("c", 2, "n", 1)],
  ]);
  t.like(results[1]![0], { code: "NOT_AN_INTEGER" });
  t.like(results[3]![0], { code: "STALE_REQUEST" });
  const again = run([[put("c", 1, "n", "x")], [incr("c", 2, "n", 1)], [incr("c", 2, "n", 1)]]);
  t.deepEqual(again.results[2]![0], again.results[1]![0]);
});

test("clients idle for more than clientTtlEntries entries are forgotten, by log index only", (t) => {
  const config = { ...DEFAULT_CONFIG, clientTtlEntries: 3 };
  const state = initialState();
  applyEntry(state, ix(1), [put("old", 7, "k", "v")], config);
  applyEntry(state, ix(2), [put("young", 1, "k", "w")], config);
  applyEntry(state, ix(4), [], config); // 4 - 1 = 3 entries idle: kept
  t.truthy(state.getSession("old"));
  applyEntry(state, ix(5), [], config); // 5 - 1 = 4 > 3: forgotten
  t.is(state.getSession("old"), undefined);
  t.truthy(state.getSession("young"));
  // once forgotten, the same requestId is applied again (documented bound)
  const [r] = applyEntry(state, ix(6), [put("old", 7, "k", "again")], config);
  t.like(r, { type: "put", value: "again" });
});

test("read markers do not touch the exactly-once table", (t) => {
  const { state, results } = run([
    [put("c", 5, "k", "a")],
    [readMarker("c", 1)],
    [put("c", 6, "k", "b")],
  ]);
  t.like(results[1]![0], { type: "read" });
  t.is(state.getSession("c")!.lastRequestId, 6);
});
