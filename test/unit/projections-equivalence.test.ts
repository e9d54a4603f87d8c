import test from "ava";
import fc from "fast-check";
import {
  applyEntry,
  type Command,
  type CommandResult,
  DEFAULT_CONFIG,
  type DomainConfig,
  initialState,
  type LogIndex,
} from "../../domain";
import {
  applyBatch,
  type BNode,
  type BTree,
  btreeCheck,
  btreeEntries,
  createProjection,
  digest,
  encodeSnapshot,
  type KvProjection,
  replay,
  setProjectionAutoFreeze,
} from "../../projections";
import { holds } from "../support/properties";
import { arbCommand } from "./domain-arbitraries";

const config: DomainConfig = { ...DEFAULT_CONFIG, clientTtlEntries: 6 };
const FANOUT = 4; // small nodes: many splits and merges even on small states

function applyAll(
  entries: readonly (readonly Command[])[],
  cfg: DomainConfig = config,
): { p: KvProjection; results: CommandResult[] } {
  let p = createProjection(cfg, FANOUT);
  const results: CommandResult[] = [];
  entries.forEach((cmds, i) => {
    const r = applyBatch(p, (i + 1) as LogIndex, cmds);
    p = r.projection;
    results.push(...r.results);
  });
  return { p, results };
}

/** Splits commands into consecutive entries at the given cut sizes. */
function chunk(cmds: readonly Command[], sizes: readonly number[]): Command[][] {
  const out: Command[][] = [];
  let i = 0;
  let s = 0;
  while (i < cmds.length) {
    const n = sizes.length === 0 ? 1 : sizes[s++ % sizes.length]!;
    out.push(cmds.slice(i, i + n));
    i += n;
  }
  return out;
}

const arbCmds = fc.array(arbCommand(), { maxLength: 120 });
const arbSizes = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 8 });

test("the projection equals the reference model (Maps) for any entries", (t) => {
  holds(
    t,
    fc.property(arbCmds, arbSizes, (cmds, sizes) => {
      const entries = chunk(
        cmds,
        sizes.map((s) => s + 1),
      );
      const { p, results } = applyAll(entries);
      const model = initialState();
      const modelResults = entries.flatMap((cs, i) =>
        applyEntry(model, (i + 1) as LogIndex, cs, config),
      );
      t.deepEqual(results, modelResults);
      const kv = [...btreeEntries(p.kv)].map(([k, e]) => [k, { ...e }]);
      const expected = [...model.entries.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      t.deepEqual(kv, expected);
      t.deepEqual(
        [...btreeEntries(p.sessions)].map(([k]) => k),
        [...model.sessions.keys()].sort(),
      );
      t.is(btreeCheck(p.kv), undefined);
      t.is(btreeCheck(p.idle), undefined);
      t.is(p.idle.size, p.sessions.size);
    }),
    { numRuns: 200 },
  );
});

test("the digest does not depend on the tree's shape (fanout 4 vs 64)", (t) => {
  holds(
    t,
    fc.property(arbCmds, arbSizes, (cmds, sizes) => {
      const entries = chunk(
        cmds,
        sizes.map((s) => s + 1),
      );
      const a = applyAll(entries).p;
      let b = createProjection(config, 64);
      entries.forEach((cs, i) => {
        b = applyBatch(b, (i + 1) as LogIndex, cs).projection;
      });
      return digest(a) === digest(b);
    }),
    { numRuns: 200 },
  );
});

test("commands one per entry (one produce each) or in random batches give the same keys and answers", (t) => {
  // One by one: command i is entry i. Batched: one entry per batch. Indexes
  // (modIndex, result.index) then differ by construction, and so would
  // index-driven expiry, so this runs without expiry and compares everything
  // else; exact digest equality is checked on identical logs above/below.
  holds(
    t,
    fc.property(arbCmds, arbSizes, (cmds, sizes) => {
      const single = applyAll(
        cmds.map((c) => [c]),
        DEFAULT_CONFIG,
      );
      let p = createProjection(DEFAULT_CONFIG, FANOUT);
      let i = 0;
      let s = 0;
      const results: CommandResult[] = [];
      while (i < cmds.length) {
        const n = sizes[s++ % sizes.length]! + 1;
        const batch = cmds.slice(i, i + n);
        // commands at indexes i+1..i+batch.length; the whole batch lands at the last one
        if (batch.length > 1) p = applyBatch(p, (i + 1) as LogIndex, []).projection;
        const r = applyBatch(p, (i + batch.length) as LogIndex, batch);
        p = r.projection;
        results.push(...r.results);
        i += batch.length;
      }
      // results may differ in `index`, and so may modIndex / session ages: compare the values only
      const strip = (x: unknown) =>
        JSON.stringify(x, (k, v) => (k === "index" || k === "modIndex" ? undefined : v));
      const sessions = (q: KvProjection) =>
        JSON.stringify([...btreeEntries(q.sessions)].map(([k, v]) => [k, v.lastRequestId]));
      return (
        strip([...btreeEntries(p.kv)]) === strip([...btreeEntries(single.p.kv)]) &&
        strip(results) === strip(single.results) &&
        sessions(p) === sessions(single.p) &&
        p.appliedIndex === single.p.appliedIndex
      );
    }),
    { numRuns: 200 },
  );
});

test("a snapshot at any point plus the remaining entries equals the live state", (t) => {
  holds(
    t,
    fc.property(
      arbCmds,
      arbSizes,
      fc.nat(),
      fc.integer({ min: 32, max: 300 }),
      (cmds, sizes, at, chunkSize) => {
        const entries = chunk(
          cmds,
          sizes.map((s) => s + 1),
        );
        const live = applyAll(entries).p;
        const cut = entries.length === 0 ? 0 : at % (entries.length + 1);
        const head = applyAll(entries.slice(0, cut)).p;
        const snapshot = [...encodeSnapshot(head, chunkSize)];
        const rest = entries
          .slice(cut)
          .map((commands, i) => ({ index: (cut + i + 1) as LogIndex, commands }));
        const r = replay(snapshot, rest, config, FANOUT);
        if (!r.ok) throw new Error(r.error.message);
        // replay also skips entries the snapshot already covers
        const overlap = replay(
          snapshot,
          entries.map((commands, i) => ({ index: (i + 1) as LogIndex, commands })),
          config,
        );
        return (
          r.ok &&
          overlap.ok &&
          digest(r.value) === digest(live) &&
          digest(overlap.value) === digest(live)
        );
      },
    ),
    { numRuns: 200 },
  );
});

test("a duplicated command (same clientId and requestId) is applied once", (t) => {
  holds(
    t,
    fc.property(arbCmds, fc.nat(), (cmds, seed) => {
      const once = applyAll(cmds.map((c) => [c]));
      // every command sent twice in a row in the same entry, or in the next entry
      const twiceSame = applyAll(cmds.map((c) => [c, c]));
      const r1 = once.results;
      const r2 = twiceSame.results;
      for (let i = 0; i < r1.length; i++) {
        if (JSON.stringify(r2[2 * i]) !== JSON.stringify(r1[i])) return false;
        if (cmds[i]!.type !== "read" && JSON.stringify(r2[2 * i + 1]) !== JSON.stringify(r1[i]))
          return false;
      }
      if (digest(once.p) !== digest(twiceSame.p)) return false;
      // a retry in a later entry also changes no key (only ages differ)
      // (no expiry here: with it, a later retry may legitimately apply again)
      const retried = applyAll(
        cmds.flatMap((c, i) => (i % 3 === seed % 3 ? [[c], [c]] : [[c]])),
        DEFAULT_CONFIG,
      );
      const onceNoExpiry = applyAll(
        cmds.map((c) => [c]),
        DEFAULT_CONFIG,
      );
      const kv = (p: KvProjection) =>
        JSON.stringify([...btreeEntries(p.kv)].map(([k, e]) => [k, e.value, e.version]));
      return kv(retried.p) === kv(onceNoExpiry.p);
    }),
    { numRuns: 200 },
  );
});

/** Every node of the tree, its arrays and the header are frozen. */
function deepFrozen<V>(t: BTree<V>): boolean {
  const node = (n: BNode<V>): boolean =>
    Object.isFrozen(n) &&
    Object.isFrozen(n.keys) &&
    (n.type === "leaf"
      ? Object.isFrozen(n.vals)
      : Object.isFrozen(n.children) && n.children.every(node));
  return Object.isFrozen(t) && node(t.root);
}

for (const autoFreeze of [true, false]) {
  test(`published versions never change and are deeply frozen (immer autoFreeze ${autoFreeze ? "on" : "off"})`, (t) => {
    setProjectionAutoFreeze(autoFreeze);
    try {
      holds(
        t,
        fc.property(arbCmds, arbSizes, (cmds, sizes) => {
          const entries = chunk(
            cmds,
            sizes.map((s) => s + 1),
          );
          let p = createProjection(config, FANOUT);
          const seen: { p: KvProjection; digest: string; kv: string }[] = [];
          const kvOf = (q: KvProjection) => JSON.stringify([...btreeEntries(q.kv)]);
          entries.forEach((cs, i) => {
            p = applyBatch(p, (i + 1) as LogIndex, cs).projection;
            if (!(deepFrozen(p.kv) && deepFrozen(p.sessions) && deepFrozen(p.idle))) {
              throw new Error(`version ${i + 1} has a node that is not frozen`);
            }
            if (autoFreeze && !Object.isFrozen(p)) throw new Error("projection root not frozen");
            seen.push({ p, digest: digest(p), kv: kvOf(p) });
          });
          // after every later batch (splits, merges, expiry), each older version reads as before
          return seen.every((v) => digest(v.p) === v.digest && kvOf(v.p) === v.kv);
        }),
        { numRuns: 150 },
      );
    } finally {
      setProjectionAutoFreeze(true);
    }
  });
}

test("applying an index at or below appliedIndex is a loud invariant failure", (t) => {
  const p = applyBatch(createProjection(), 5 as LogIndex, []).projection;
  t.throws(() => applyBatch(p, 5 as LogIndex, []));
  t.throws(() => applyBatch(p, 2 as LogIndex, []));
  t.is(applyBatch(p, 9 as LogIndex, []).projection.appliedIndex, 9 as LogIndex);
});
