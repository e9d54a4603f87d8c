import test from "ava";
import fc from "fast-check";
import { type Command, del, type LogIndex, put } from "../../domain";
import { applyBatch, createProjection, get, listKeys, multiGet, range } from "../../projections";

const arbKey = fc.constantFrom("", "a", "b", "c").chain((p) =>
  fc
    .string({
      unit: fc.constantFrom("a", "b", "c", "/", "é", "\u{1F600}"),
      minLength: 1,
      maxLength: 4,
    })
    .map((s) => p + s),
);

const sorted = (keys: Iterable<string>) => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

test("get, multiGet, range and prefix listing equal a naive model", (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ del: fc.boolean(), key: arbKey }), { maxLength: 300 }),
      arbKey,
      arbKey,
      fc.constantFrom("", "a", "ab", "b/", "c"),
      fc.integer({ min: 0, max: 40 }),
      (ops, k1, k2, prefix, limit) => {
        let p = createProjection(undefined, 4);
        const model = new Map<string, string>();
        ops.forEach((op, i) => {
          const c: Command = op.del ? del("c", i + 1, op.key) : put("c", i + 1, op.key, `v${i}`);
          p = applyBatch(p, (i + 1) as LogIndex, [c]).projection;
          op.del ? model.delete(op.key) : model.set(op.key, `v${i}`);
        });
        const keys = sorted(model.keys());
        const [start, end] = k1 <= k2 ? [k1, k2] : [k2, k1];
        const inRange = keys.filter((k) => k >= start && k < end);
        const r = range(p, start, end, limit);
        t.deepEqual(
          r.items.map((i) => [i.key, i.value]),
          inRange.slice(0, limit).map((k) => [k, model.get(k)]),
        );
        t.is(r.more, inRange.length > limit);
        const open = range(p, start, undefined, limit);
        t.deepEqual(
          open.items.map((i) => i.key),
          keys.filter((k) => k >= start).slice(0, limit),
        );
        const withPrefix = keys.filter((k) => k.startsWith(prefix));
        const l = listKeys(p, prefix, limit);
        t.deepEqual(l.items, withPrefix.slice(0, limit));
        t.is(l.more, withPrefix.length > limit);
        // paging with `after` continues exactly where the last page stopped
        if (l.items.length > 0) {
          const after = l.items[l.items.length - 1]!;
          t.deepEqual(
            listKeys(p, prefix, limit, after).items,
            withPrefix.filter((k) => k > after).slice(0, limit),
          );
        }
        t.is(get(p, k1).item?.value, model.get(k1));
        t.deepEqual(
          multiGet(p, [k1, k2]).items.map((i) => i?.value),
          [model.get(k1), model.get(k2)],
        );
        t.is(r.index, p.appliedIndex);
      },
    ),
    { numRuns: 150 },
  );
});
