import test from "ava";
import { DEFAULT_CONFIG, type DomainConfig, type LogIndex, put } from "../../domain";
import {
  applyBatch,
  btreeCheck,
  btreeEntries,
  createProjection,
  decodeSnapshot,
  digest,
  encodeSnapshot,
  type KvProjection,
} from "../../projections";

const config: DomainConfig = { ...DEFAULT_CONFIG, clientTtlEntries: 3 };

const clients = (p: KvProjection) => [...btreeEntries(p.sessions)].map(([id]) => id);

test("a client that keeps writing is kept past its first write's horizon; one that stops is forgotten after the TTL", (t) => {
  let p = createProjection(config, 4);
  let requestId = 0;
  const apply = (index: number, ...clientIds: string[]) => {
    p = applyBatch(
      p,
      index as LogIndex,
      clientIds.map((c) => put(c, ++requestId, `k-${c}`, String(index))),
    ).projection;
    t.is(btreeCheck(p.idle), undefined);
    t.is(p.idle.size, p.sessions.size, `one idle key per client at ${index}`);
  };
  apply(1, "busy", "quiet");
  apply(2, "other");
  apply(3, "busy");
  apply(4);
  // idleBefore 1 at 4, 2 at 5: "quiet" (last write 1) goes; "busy" (first key at 1, last write 3) stays.
  apply(5);
  t.deepEqual(clients(p), ["busy", "other"]);
  apply(6);
  t.deepEqual(clients(p), ["busy"], "idleBefore 3: other (last write 2) goes");
  apply(7);
  t.deepEqual(clients(p), [], "idleBefore 4: busy (last write 3) goes");
});

test("a restored snapshot expires the same clients as the replica it came from", (t) => {
  let p = createProjection(config, 4);
  let index = 0;
  let requestId = 0;
  const step = (q: KvProjection, ...clientIds: string[]) =>
    applyBatch(
      q,
      (q.appliedIndex + 1) as LogIndex,
      clientIds.map((c) => put(c, ++requestId, "k", c)),
    ).projection;
  for (const writers of [["a", "b"], ["a"], ["c"], ["a"]]) {
    p = step(p, ...writers);
    index++;
  }
  const restored = decodeSnapshot(encodeSnapshot(p), config, 4);
  if (!restored.ok) throw new Error(restored.error.message);
  let q = restored.value;
  t.is(digest(q), digest(p));
  for (let i = 0; i < 5; i++) {
    p = step(p);
    q = step(q);
    t.deepEqual(clients(q), clients(p), `after entry ${index + i + 1}`);
    t.is(digest(q), digest(p));
  }
  t.deepEqual(clients(p), []);
});
