import test from "ava";
import { DEFAULT_LIMITS, errorKind, parseCommand } from "../../domain";

const base = { clientId: "c", requestId: 1 };

test("valid inputs become commands with unknown fields dropped", (t) => {
  const r = parseCommand({ type: "put", ...base, key: "k", value: "v", extra: 1 }, DEFAULT_LIMITS);
  t.deepEqual(r, { ok: true, value: { type: "put", ...base, key: "k", value: "v" } });
  const m = parseCommand(
    { type: "putMany", ...base, puts: [{ key: "a", value: "1" }] },
    DEFAULT_LIMITS,
  );
  t.deepEqual(m, {
    ok: true,
    value: { type: "putMany", ...base, puts: [{ key: "a", value: "1" }], deletes: [] },
  });
  t.true(
    parseCommand({ type: "cas", ...base, key: "k", expected: null, value: "v" }, DEFAULT_LIMITS).ok,
  );
  t.true(parseCommand({ type: "read", ...base }, DEFAULT_LIMITS).ok);
});

const code = (input: unknown, limits = DEFAULT_LIMITS) => {
  const r = parseCommand(input, limits);
  return r.ok ? "ok" : r.error.code;
};

test("empty keys are rejected", (t) => {
  t.is(code({ type: "put", ...base, key: "", value: "v" }), "EMPTY_KEY");
  t.is(code({ type: "delete", ...base, key: "" }), "EMPTY_KEY");
});

test("keys are limited in UTF-8 bytes, not UTF-16 units", (t) => {
  t.is(code({ type: "put", ...base, key: "k".repeat(1024), value: "" }), "ok");
  t.is(code({ type: "put", ...base, key: "k".repeat(1025), value: "" }), "KEY_TOO_LARGE");
  // 342 × 3-byte characters = 1026 bytes although only 342 UTF-16 units
  t.is(code({ type: "put", ...base, key: "€".repeat(342), value: "" }), "KEY_TOO_LARGE");
  t.is(errorKind("KEY_TOO_LARGE"), "invalid");
});

test("values over the limit are rejected", (t) => {
  const limits = { ...DEFAULT_LIMITS, maxValueBytes: 3 };
  t.is(code({ type: "put", ...base, key: "k", value: "abc" }, limits), "ok");
  t.is(code({ type: "put", ...base, key: "k", value: "abcd" }, limits), "VALUE_TOO_LARGE");
  t.is(code({ type: "append", ...base, key: "k", suffix: "abcd" }, limits), "VALUE_TOO_LARGE");
});

test("putMany: too many ops, duplicate keys, one bad op rejects the whole", (t) => {
  const limits = { ...DEFAULT_LIMITS, maxOpsPerTxn: 2 };
  const puts = [
    { key: "a", value: "1" },
    { key: "b", value: "2" },
  ];
  t.is(code({ type: "putMany", ...base, puts }, limits), "ok");
  t.is(code({ type: "putMany", ...base, puts, deletes: ["c"] }, limits), "TOO_MANY_OPS");
  t.is(code({ type: "putMany", ...base, puts: [puts[0]], deletes: ["a"] }), "BAD_REQUEST");
  t.is(code({ type: "putMany", ...base, puts: [puts[0], { key: "", value: "x" }] }), "EMPTY_KEY");
  t.is(code({ type: "putMany", ...base, puts: [puts[0], { key: "z" }] }), "BAD_REQUEST");
});

test("malformed inputs are BAD_REQUEST, never a throw", (t) => {
  for (const input of [
    null,
    42,
    "put",
    [],
    {},
    { type: "nope", ...base },
    { type: "put", key: "k", value: "v" },
    { type: "put", ...base, requestId: 0, key: "k", value: "v" },
    { type: "put", ...base, requestId: 1.5, key: "k", value: "v" },
    { type: "put", ...base, requestId: "1", key: "k", value: "v" },
    { type: "put", ...base, clientId: "", key: "k", value: "v" },
    { type: "put", ...base, key: 1, value: "v" },
    { type: "put", ...base, key: "\ud800", value: "v" },
    { type: "incr", ...base, key: "k", by: 1.5 },
    { type: "incr", ...base, key: "k", by: 2 ** 60 },
    { type: "cas", ...base, key: "k", expected: 3, value: "v" },
    { type: "cas", ...base, key: "k", expected: "a", value: "v", expectedVersion: 0 },
    { type: "putMany", ...base, puts: "x" },
  ]) {
    t.is(code(input), "BAD_REQUEST", JSON.stringify(input));
  }
});
