import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import {
  type Command,
  decodeBatch,
  decodeCommand,
  decodeCommandHead,
  encodeBatch,
  encodeCommand,
} from "../../domain";
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

test("the head decoder accepts exactly what the full decoder accepts, and agrees on the head", (t) => {
  const agree = (bytes: Uint8Array) => {
    const full = decodeCommand(bytes);
    const head = decodeCommandHead(bytes);
    if (full.ok !== head.ok) return false;
    if (!full.ok || !head.ok) return true;
    const { type, clientId, requestId } = full.value;
    return isDeepStrictEqual(
      { type, clientId, requestId },
      {
        type: head.value.type,
        clientId: head.value.clientId,
        requestId: head.value.requestId,
      },
    );
  };
  holds(
    t,
    fc.property(
      arbCommand(),
      (c) => agree(encodeCommand(c)) && decodeCommandHead(encodeCommand(c)).ok,
    ),
    {
      numRuns: 2000,
    },
  );
  // One byte of a valid encoding changed (a length, a tag, or a byte inside a
  // string, which may break its UTF-8), or the encoding cut short.
  holds(
    t,
    fc.property(
      arbCommand(),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(),
      (c, at, byte, cut) => {
        const bytes = encodeCommand(c);
        const changed = Uint8Array.from(bytes);
        changed[at % changed.length] = byte;
        return agree(changed) && agree(bytes.subarray(0, cut % bytes.length));
      },
    ),
    { numRuns: 5000 },
  );
  holds(t, fc.property(fc.uint8Array({ maxLength: 200 }), agree), { numRuns: 2000 });
});
