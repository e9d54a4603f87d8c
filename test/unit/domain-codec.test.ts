import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { type Command, decodeBatch, decodeCommand, encodeBatch, encodeCommand } from "../../domain";
import { holds } from "../support/properties";
import { arbCommand } from "./domain-arbitraries";

test("every command round-trips through the binary codec", (t) => {
  holds(
    t,
    fc.property(arbCommand(), (c) => {
      const d = decodeCommand(encodeCommand(c));
      return d.ok && isDeepStrictEqual(d.value, c);
    }),
    { numRuns: 2000 },
  );
});

test("batches are concatenations of encoded commands and round-trip", (t) => {
  holds(
    t,
    fc.property(fc.array(arbCommand(), { maxLength: 20 }), (cs: Command[]) => {
      const d = decodeBatch(encodeBatch(cs.map(encodeCommand)));
      return d.ok && isDeepStrictEqual(d.value, cs);
    }),
    { numRuns: 500 },
  );
});

test("garbage and truncated bytes give an error value, never a throw", (t) => {
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const a = decodeCommand(bytes);
      const b = decodeBatch(bytes);
      return typeof a.ok === "boolean" && typeof b.ok === "boolean";
    }),
    { numRuns: 5000 },
  );
  holds(
    t,
    fc.property(arbCommand(), fc.nat(), (c, cut) => {
      const bytes = encodeCommand(c);
      const n = cut % bytes.length;
      return !decodeCommand(bytes.subarray(0, n)).ok;
    }),
  );
  const bad = decodeCommand(new Uint8Array([1, 1, 1, 0xff, 1, 0, 0]));
  t.false(bad.ok);
  if (!bad.ok) t.is(bad.error.code, "CORRUPT");
});
