import test from "ava";
import fc from "fast-check";
import { type Command, cas, type LogIndex, put, putMany } from "../../domain";
import {
  applyBatch,
  createProjection,
  DEFAULT_CHUNK_SIZE,
  decodeSnapshot,
  digest,
  encodeSnapshot,
  type KvProjection,
  SnapshotDecoder,
} from "../../projections";
import { holds } from "../support/properties";

function sample(n: number, valueSize = 10): KvProjection {
  let p = createProjection();
  for (let b = 0; b < n / 100; b++) {
    const cmds: Command[] = [];
    for (let i = 0; i < 100; i++)
      cmds.push(put(`c${i % 7}`, b * 100 + i + 1, `key${b * 100 + i}`, "v".repeat(valueSize)));
    p = applyBatch(p, (b + 1) as LogIndex, cmds).projection;
  }
  return applyBatch(p, (n / 100 + 1) as LogIndex, [cas("z", 1, "key0", "nope", "x")]).projection;
}

const concat = (chunks: Uint8Array[]) => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
};

test("a snapshot restores to an identical state, whatever the chunk size", (t) => {
  const p = sample(1000);
  for (const size of [32, 100, 4096, DEFAULT_CHUNK_SIZE]) {
    const chunks = [...encodeSnapshot(p, size)];
    t.true(chunks.every((c) => c.length <= size && c.length > 0));
    const r = decodeSnapshot(chunks);
    if (!r.ok) return t.fail(r.error.message);
    t.is(digest(r.value), digest(p));
    t.is(r.value.appliedIndex, p.appliedIndex);
  }
});

test("values larger than a chunk are split across chunks and decoded incrementally at any split", (t) => {
  const p = sample(200, 3000);
  const bytes = concat([...encodeSnapshot(p, 1024)]);
  holds(
    t,
    fc.property(fc.array(fc.nat({ max: bytes.length }), { maxLength: 12 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
      const d = new SnapshotDecoder();
      for (let i = 1; i < points.length; i++) {
        const e = d.push(bytes.subarray(points[i - 1]!, points[i]!));
        if (e) return false;
      }
      const r = d.finish();
      return r.ok && digest(r.value) === digest(p);
    }),
    { numRuns: 50 },
  );
});

test("a snapshot is taken from an immutable version while applying continues", (t) => {
  const p = sample(500);
  const it = encodeSnapshot(p, 256);
  const first = it.next().value as Uint8Array;
  // the apply path moves on meanwhile
  let q = p;
  for (let i = 0; i < 50; i++) {
    q = applyBatch(q, (q.appliedIndex + 1) as LogIndex, [
      put("w", i + 1, `key${i}`, "changed"),
    ]).projection;
  }
  const r = decodeSnapshot([first, ...it]);
  if (!r.ok) return t.fail(r.error.message);
  t.is(digest(r.value), digest(p));
  t.not(digest(r.value), digest(q));
});

test("any flipped byte or truncation is rejected with an error value", (t) => {
  const p = sample(100);
  const bytes = concat([...encodeSnapshot(p)]);
  holds(
    t,
    fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const bad = bytes.slice();
      bad[at]! ^= x;
      const r = decodeSnapshot([bad]);
      return !r.ok;
    }),
    { numRuns: 300 },
  );
  holds(
    t,
    fc.property(fc.nat({ max: bytes.length - 1 }), (n) => {
      const r = decodeSnapshot([bytes.subarray(0, n)]);
      return (
        !r.ok && (r.error.code === "SNAPSHOT_TRUNCATED" || r.error.code === "SNAPSHOT_CORRUPT")
      );
    }),
    { numRuns: 300 },
  );
  const extra = decodeSnapshot([bytes, new Uint8Array([0])]);
  t.like(extra, { ok: false, error: { code: "SNAPSHOT_CORRUPT" } });
  const future = bytes.slice();
  future[5] = 9;
  t.like(decodeSnapshot([future]), { ok: false, error: { code: "SNAPSHOT_UNSUPPORTED" } });
  holds(
    t,
    fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => !decodeSnapshot([junk]).ok),
  );
});

test("the exactly-once table survives a snapshot (a retried request is still a duplicate)", (t) => {
  let p = createProjection();
  const first = applyBatch(p, 1 as LogIndex, [putMany("c", 9, [{ key: "a", value: "1" }])]);
  p = first.projection;
  const r = decodeSnapshot(encodeSnapshot(p));
  if (!r.ok) return t.fail();
  const retry = applyBatch(r.value, 2 as LogIndex, [putMany("c", 9, [{ key: "a", value: "2" }])]);
  t.deepEqual(retry.results, first.results);
  const stale = applyBatch(r.value, 2 as LogIndex, [put("c", 3, "a", "x")]);
  t.like(stale.results[0], { type: "rejected", code: "STALE_REQUEST" });
});

test("the digest covers values, versions, the client table and appliedIndex", (t) => {
  const p = applyBatch(createProjection(), 1 as LogIndex, [put("c", 1, "k", "v")]).projection;
  const d = digest(p);
  t.not(
    digest(applyBatch(createProjection(), 1 as LogIndex, [put("c", 1, "k", "w")]).projection),
    d,
  );
  t.not(
    digest(applyBatch(createProjection(), 1 as LogIndex, [put("c", 2, "k", "v")]).projection),
    d,
  );
  t.not(
    digest(applyBatch(createProjection(), 2 as LogIndex, [put("c", 1, "k", "v")]).projection),
    d,
  );
  t.not(digest(applyBatch(p, 2 as LogIndex, []).projection), d);
  t.is(
    digest(applyBatch(createProjection(), 1 as LogIndex, [put("c", 1, "k", "v")]).projection),
    d,
  );
});
