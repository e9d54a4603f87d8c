import fc from "fast-check";
import type { Command } from "../../domain";

/** Small key/client spaces so that sequences collide on keys and request ids. */
export const arbKey = () =>
  fc.constantFrom("a", "b", "c", "d", "ab", "abc", "b/1", "b/2", "é", "😀");
export const arbValue = () =>
  fc.oneof(
    fc.constantFrom("", "0", "1", "-5", "x", "9223372036854775807"),
    fc.string({ maxLength: 8 }),
  );
const arbClient = () => fc.constantFrom("c1", "c2", "c3");
const arbReq = () => fc.integer({ min: 1, max: 12 });

/** Plain objects (fast-check builds null-prototype ones; JSON also turns -0 into 0). */
export function arbCommand(): fc.Arbitrary<Command> {
  return arbCommandRaw().map((c) => JSON.parse(JSON.stringify(c)) as Command);
}

function arbCommandRaw(): fc.Arbitrary<Command> {
  const r = { clientId: arbClient(), requestId: arbReq() };
  return fc.oneof(
    fc.record({ type: fc.constant("put" as const), ...r, key: arbKey(), value: arbValue() }),
    fc.record({ type: fc.constant("delete" as const), ...r, key: arbKey() }),
    fc.record({
      type: fc.constant("putMany" as const),
      ...r,
      puts: fc.uniqueArray(fc.record({ key: arbKey(), value: arbValue() }), {
        selector: (p) => p.key,
        maxLength: 3,
      }),
      deletes: fc.constantFrom([], ["d"], ["x"]),
    }),
    fc
      .record({
        type: fc.constant("cas" as const),
        ...r,
        key: arbKey(),
        expected: fc.option(arbValue(), { nil: null }),
        value: arbValue(),
        expectedVersion: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      })
      .map((c) => {
        const { expectedVersion, ...rest } = c;
        return expectedVersion === undefined || c.expected === null ? rest : c;
      }),
    fc.record({
      type: fc.constant("incr" as const),
      ...r,
      key: arbKey(),
      by: fc.integer({ min: -3, max: 3 }),
    }),
    fc.record({
      type: fc.constant("append" as const),
      ...r,
      key: arbKey(),
      suffix: fc.string({ maxLength: 3 }),
    }),
    fc.record({ type: fc.constant("read" as const), ...r }),
  );
}
