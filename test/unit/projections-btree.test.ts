import test from "ava";
import fc from "fast-check";
import { Immer, isDraft } from "immer";
import {
  type BNode,
  type BTree,
  btreeCheck,
  btreeDelete,
  btreeEntries,
  btreeFromSorted,
  btreeGet,
  btreeHeight,
  btreeSet,
  Edit,
  emptyTree,
  mutable,
} from "../../projections/btree";
import { holds } from "../support/properties";

const immer = new Immer({ autoFreeze: true });

type Op = { del: boolean; key: string; val: number };
const arbOps = (keys: number) =>
  fc.array(
    fc.record({
      del: fc.boolean(),
      key: fc.integer({ min: 0, max: keys }).map((n) => `k${n}`),
      val: fc.nat(),
    }),
    { maxLength: 400 },
  );

function noDrafts<V>(node: BNode<V>): boolean {
  if (isDraft(node)) return false;
  return node.type === "leaf" || node.children.every((c) => noDrafts(c));
}

for (const fanout of [4, 5, 8, 64]) {
  test(`fanout ${fanout}: random inserts/deletes in immer batches keep every invariant and match a Map`, (t) => {
    holds(
      t,
      fc.property(arbOps(fanout * 12), fc.integer({ min: 1, max: 50 }), (ops: Op[], batch) => {
        let tree: BTree<number> = emptyTree(fanout);
        const model = new Map<string, number>();
        const versions: { tree: BTree<number>; entries: [string, number][] }[] = [];
        for (let i = 0; i < ops.length; i += batch) {
          const slice = ops.slice(i, i + batch);
          tree = immer.produce(tree, (d) => {
            for (const op of slice) {
              if (op.del) btreeDelete(mutable(d as BTree<number>), op.key);
              else btreeSet(mutable(d as BTree<number>), op.key, op.val);
            }
          });
          for (const op of slice) op.del ? model.delete(op.key) : model.set(op.key, op.val);
          const problem = btreeCheck(tree);
          if (problem) throw new Error(problem);
          if (!noDrafts(tree.root)) throw new Error("a draft leaked into the result");
          versions.push({ tree, entries: [...btreeEntries(tree)] });
        }
        const expected = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        if (JSON.stringify([...btreeEntries(tree)]) !== JSON.stringify(expected)) return false;
        for (const [k, v] of model) if (btreeGet(tree, k) !== v) return false;
        // persistence: every older version still reads as it did
        return versions.every(
          (v) => JSON.stringify([...btreeEntries(v.tree)]) === JSON.stringify(v.entries),
        );
      }),
      { numRuns: 150 },
    );
  });
}

test("an update copies one root-to-leaf path and shares every other node", (t) => {
  let tree: BTree<number> = emptyTree(8);
  tree = immer.produce(tree, (d) => {
    for (let i = 0; i < 2000; i++)
      btreeSet(mutable(d as BTree<number>), `k${String(i).padStart(5, "0")}`, i);
  });
  t.true(btreeHeight(tree) >= 3);
  const next = immer.produce(tree, (d) => {
    btreeSet(mutable(d as BTree<number>), "k01000", -1);
  });
  const root = tree.root;
  const nroot = next.root;
  if (root.type !== "branch" || nroot.type !== "branch") return t.fail();
  const changed = nroot.children.filter((c, i) => c !== root.children[i]).length;
  t.is(changed, 1);
  t.is(btreeGet(tree, "k01000"), 1000);
  t.is(btreeGet(next, "k01000"), -1);
  t.true(Object.isFrozen(next.root));
});

test("an edit copies each touched node once, then freezes it; a finished edit refuses writes", (t) => {
  const keys = Array.from({ length: 500 }, (_, i) => `k${String(i).padStart(4, "0")}`);
  const base = btreeFromSorted(
    keys,
    keys.map((_, i) => i),
    8,
  );
  const before = JSON.stringify([...btreeEntries(base)]);
  const tree = mutable({ ...base });
  const edit = new Edit();
  btreeSet(tree, "k0100", -1, edit);
  const root = tree.root;
  btreeSet(tree, "k0101", -2, edit); // same path: written in place
  t.is(tree.root, root);
  btreeSet(tree, "k0100a", -3, edit); // full nodes (bulk load): splits up to a new root
  btreeDelete(tree, "k0102", edit);
  t.false(Object.isFrozen(tree.root));
  edit.finish();
  t.true(Object.isFrozen(tree.root));
  t.is(btreeCheck(tree), undefined);
  t.is(btreeGet(tree, "k0100"), -1);
  t.is(btreeGet(tree, "k0100a"), -3);
  t.is(btreeGet(tree, "k0102"), undefined);
  t.is(JSON.stringify([...btreeEntries(base)]), before); // the base version is untouched
  t.throws(() => btreeSet(tree, "k0000", 0, edit));
});

test("bulk load from sorted entries satisfies the invariants for every size", (t) => {
  const problems: string[] = [];
  for (const fanout of [4, 7, 64]) {
    for (let n = 0; n < 300; n++) {
      const keys = Array.from({ length: n }, (_, i) => `k${String(i).padStart(4, "0")}`);
      const tree = btreeFromSorted(
        keys,
        keys.map((_, i) => i),
        fanout,
      );
      const problem = btreeCheck(tree);
      if (problem) problems.push(`n=${n} fanout=${fanout}: ${problem}`);
    }
  }
  t.deepEqual(problems, []);
});
