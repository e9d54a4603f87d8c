/**
 * A persistent B+tree of small plain nodes, sorted by key in UTF-16 code
 * unit order (JavaScript's `<` on strings; used everywhere: queries,
 * snapshots, digests).
 *
 * Why a tree: immer copies a whole object/Map on the first write inside a
 * `produce`; over a flat 100k-entry Map that is ~30 ms per produce. Here a
 * write copies only the nodes on one root-to-leaf path (each ≤ `fanout`
 * slots), every other node is shared with the previous version, and a
 * snapshot is just the frozen root.
 *
 * The mutating functions (`btreeSet`, `btreeDelete`) mutate in place: call
 * them on an immer draft (that is what makes the result persistent) or on a
 * tree you own. The read functions work on drafts and frozen trees alike.
 *
 * Invariants (checked by `btreeCheck`): keys strictly increasing; all leaves
 * at the same depth; every node except the root holds between
 * `fanout/2` and `fanout` keys (leaf) or children (branch); a branch with n
 * children has n-1 separators and child i holds keys in
 * [keys[i-1], keys[i]).
 *
 * Values are stored as-is and treated as immutable; store frozen non-plain
 * records (class instances) so immer never proxies them (see records.ts).
 */
/**
 * A leaf is an immutable sorted run (a frozen class instance, so immer never
 * drafts it: a write builds a new leaf with native array copies of ≤ fanout
 * slots instead of paying a proxy trap per shifted slot). Branches are plain
 * objects that immer drafts and path-copies.
 */
export class BLeaf<V> {
  readonly type = "leaf" as const;
  constructor(
    readonly keys: readonly string[],
    readonly vals: readonly V[],
  ) {
    // The arrays are not frozen at runtime: Object.freeze on every new leaf
    // array halved apply throughput (measured); `readonly` types guard them.
    Object.freeze(this);
  }
}

/** A branch's separators, immutable for the same reason as leaves. */
export class Seps {
  constructor(readonly keys: readonly string[]) {
    Object.freeze(this);
  }
}

export interface BBranch<V> {
  readonly type: "branch";
  readonly seps: Seps;
  readonly children: readonly BNode<V>[];
}

export type BNode<V> = BLeaf<V> | BBranch<V>;

export interface BTree<V> {
  readonly root: BNode<V>;
  readonly size: number;
  /** Max keys per leaf and max children per branch (≥ 4; min is fanout/2). */
  readonly fanout: number;
}

// Mutable views used by the in-place algorithms (an immer draft has this shape).
interface MBranch<V> {
  type: "branch";
  seps: Seps;
  children: BNode<V>[];
}
export interface MTree<V> {
  root: BNode<V>;
  size: number;
  fanout: number;
}

export const DEFAULT_FANOUT = 64;

export function emptyTree<V>(fanout = DEFAULT_FANOUT): BTree<V> {
  if (!Number.isInteger(fanout) || fanout < 4) throw new Error("fanout must be an integer ≥ 4");
  return { root: new BLeaf<V>([], []), size: 0, fanout };
}

/** A draft (or an owned tree) seen through the mutable view. */
export function mutable<V>(t: BTree<V>): MTree<V> {
  return t as unknown as MTree<V>;
}

/** First i with keys[i] >= key. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First i with keys[i] > key: the child of a branch that may hold `key`. */
function upperBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function btreeGet<V>(t: BTree<V>, key: string): V | undefined {
  let node = t.root;
  while (node.type === "branch") node = node.children[upperBound(node.seps.keys, key)]!;
  const i = lowerBound(node.keys, key);
  return node.keys[i] === key ? node.vals[i] : undefined;
}

/** The smallest entry, or undefined when empty. */
export function btreeFirst<V>(t: BTree<V>): { key: string; val: V } | undefined {
  let node = t.root;
  while (node.type === "branch") node = node.children[0]!;
  return node.keys.length === 0 ? undefined : { key: node.keys[0]!, val: node.vals[0]! };
}

/**
 * Visits entries with key ≥ `start` (all when undefined) in order until
 * `visit` returns false. O(log n + visited): never touches the skipped part.
 */
export function btreeScan<V>(
  t: BTree<V>,
  start: string | undefined,
  visit: (key: string, val: V) => boolean,
): void {
  scanNode(t.root, start, visit);
}

function scanNode<V>(
  node: BNode<V>,
  start: string | undefined,
  visit: (key: string, val: V) => boolean,
): boolean {
  if (node.type === "leaf") {
    for (
      let i = start === undefined ? 0 : lowerBound(node.keys, start);
      i < node.keys.length;
      i++
    ) {
      if (!visit(node.keys[i]!, node.vals[i]!)) return false;
    }
    return true;
  }
  const first = start === undefined ? 0 : upperBound(node.seps.keys, start);
  for (let c = first; c < node.children.length; c++) {
    if (!scanNode(node.children[c]!, c === first ? start : undefined, visit)) return false;
  }
  return true;
}

/** All leaves in order, lazily (an explicit stack, so it is cheap to pause). */
export function* btreeLeaves<V>(t: BTree<V>): Generator<BLeaf<V>, void, undefined> {
  const stack: { node: BBranch<V>; next: number }[] = [];
  let node: BNode<V> = t.root;
  for (;;) {
    while (node.type === "branch") {
      stack.push({ node, next: 1 });
      node = node.children[0]!;
    }
    yield node;
    let top = stack[stack.length - 1];
    while (top !== undefined && top.next >= top.node.children.length) {
      stack.pop();
      top = stack[stack.length - 1];
    }
    if (top === undefined) return;
    node = top.node.children[top.next++]!;
  }
}

/** All entries in order, lazily. */
export function* btreeEntries<V>(t: BTree<V>): Generator<[string, V], void, undefined> {
  for (const leaf of btreeLeaves(t)) {
    for (let i = 0; i < leaf.keys.length; i++) yield [leaf.keys[i]!, leaf.vals[i]!];
  }
}

function insertAt<T>(a: readonly T[], i: number, x: T): T[] {
  const out = a.slice(0, i);
  out.push(x);
  for (let j = i; j < a.length; j++) out.push(a[j]!);
  return out;
}

function removeAt<T>(a: readonly T[], i: number): T[] {
  const out = a.slice(0, i);
  for (let j = i + 1; j < a.length; j++) out.push(a[j]!);
  return out;
}

interface SetResult<V> {
  added: boolean;
  /** For a leaf: the new leaf to put in its slot (branches are changed in place). */
  node?: BNode<V>;
  split?: { sep: string; right: BNode<V> };
}

/** Inserts or replaces; returns true when the key is new. */
export function btreeSet<V>(t: MTree<V>, key: string, val: V): boolean {
  const r = setIn(t.root, key, val, t.fanout);
  if (r.node !== undefined) t.root = r.node;
  if (r.split !== undefined) {
    const branch: BBranch<V> = {
      type: "branch",
      seps: new Seps([r.split.sep]),
      children: [t.root, r.split.right],
    };
    t.root = branch;
  }
  if (r.added) t.size++;
  return r.added;
}

function setIn<V>(node: BNode<V>, key: string, val: V, fanout: number): SetResult<V> {
  if (node.type === "leaf") {
    const keys = node.keys;
    const i = lowerBound(keys, key);
    if (i < keys.length && keys[i] === key) {
      const vals = node.vals.slice();
      vals[i] = val;
      return { added: false, node: new BLeaf(keys, vals) };
    }
    const k2 = insertAt(keys, i, key);
    const v2 = insertAt(node.vals, i, val);
    if (k2.length <= fanout) return { added: true, node: new BLeaf(k2, v2) };
    const half = k2.length >>> 1;
    const right = new BLeaf(k2.slice(half), v2.slice(half));
    return {
      added: true,
      node: new BLeaf(k2.slice(0, half), v2.slice(0, half)),
      split: { sep: right.keys[0]!, right },
    };
  }
  const b = node as unknown as MBranch<V>;
  const ci = upperBound(b.seps.keys, key);
  const r = setIn(b.children[ci]!, key, val, fanout);
  if (r.node !== undefined) b.children[ci] = r.node;
  if (r.split === undefined) return { added: r.added };
  b.seps = new Seps(insertAt(b.seps.keys, ci, r.split.sep));
  b.children.splice(ci + 1, 0, r.split.right);
  if (b.children.length <= fanout) return { added: r.added };
  // split: the left keeps `half` children; the separator between them moves up
  const half = b.children.length >>> 1;
  const children = b.children.splice(half);
  const seps = b.seps.keys;
  b.seps = new Seps(seps.slice(0, half - 1));
  const right: BBranch<V> = { type: "branch", seps: new Seps(seps.slice(half)), children };
  return { added: r.added, split: { sep: seps[half - 1]!, right } };
}

/** Removes the key; returns true when it was present. */
export function btreeDelete<V>(t: MTree<V>, key: string): boolean {
  const r = deleteIn(t.root, key, t.fanout >>> 1);
  if (r === undefined) return false;
  if (r !== true) t.root = r;
  const root = t.root;
  if (root.type === "branch" && root.children.length === 1) t.root = root.children[0]!;
  t.size--;
  return true;
}

const count = <V>(n: BNode<V>) => (n.type === "leaf" ? n.keys.length : n.children.length);

/** undefined = not found; a leaf = the leaf's replacement; true = removed in place (branch). */
function deleteIn<V>(node: BNode<V>, key: string, min: number): BLeaf<V> | true | undefined {
  if (node.type === "leaf") {
    const i = lowerBound(node.keys, key);
    if (i >= node.keys.length || node.keys[i] !== key) return undefined;
    return new BLeaf(removeAt(node.keys, i), removeAt(node.vals, i));
  }
  const b = node as unknown as MBranch<V>;
  const ci = upperBound(b.seps.keys, key);
  const r = deleteIn(b.children[ci]!, key, min);
  if (r === undefined) return undefined;
  if (r !== true) b.children[ci] = r;
  if (count(b.children[ci]!) < min) rebalance(b, ci, min);
  return true;
}

function replaceSep(parent: MBranch<unknown>, i: number, sep: string): void {
  const keys = parent.seps.keys.slice();
  keys[i] = sep;
  parent.seps = new Seps(keys);
}

/** Child `ci` of `parent` is one under the minimum: borrow from a sibling or merge. */
function rebalance<V>(parent: MBranch<V>, ci: number, min: number): void {
  const child = parent.children[ci]!;
  const left = ci > 0 ? parent.children[ci - 1]! : undefined;
  const right = ci + 1 < parent.children.length ? parent.children[ci + 1]! : undefined;
  if (left !== undefined && count(left) > min) {
    if (child.type === "leaf" && left.type === "leaf") {
      const n = left.keys.length - 1;
      parent.children[ci - 1] = new BLeaf(left.keys.slice(0, n), left.vals.slice(0, n));
      const moved = new BLeaf([left.keys[n]!, ...child.keys], [left.vals[n]!, ...child.vals]);
      parent.children[ci] = moved;
      replaceSep(parent, ci - 1, moved.keys[0]!);
    } else if (child.type === "branch" && left.type === "branch") {
      const c = child as unknown as MBranch<V>;
      const l = left as unknown as MBranch<V>;
      c.children.unshift(l.children.pop()!);
      c.seps = new Seps([parent.seps.keys[ci - 1]!, ...c.seps.keys]);
      const lk = l.seps.keys;
      replaceSep(parent, ci - 1, lk[lk.length - 1]!);
      l.seps = new Seps(lk.slice(0, lk.length - 1));
    }
    return;
  }
  if (right !== undefined && count(right) > min) {
    if (child.type === "leaf" && right.type === "leaf") {
      parent.children[ci] = new BLeaf(
        [...child.keys, right.keys[0]!],
        [...child.vals, right.vals[0]!],
      );
      const rest = new BLeaf(right.keys.slice(1), right.vals.slice(1));
      parent.children[ci + 1] = rest;
      replaceSep(parent, ci, rest.keys[0]!);
    } else if (child.type === "branch" && right.type === "branch") {
      const c = child as unknown as MBranch<V>;
      const r = right as unknown as MBranch<V>;
      c.seps = new Seps([...c.seps.keys, parent.seps.keys[ci]!]);
      c.children.push(r.children.shift()!);
      replaceSep(parent, ci, r.seps.keys[0]!);
      r.seps = new Seps(r.seps.keys.slice(1));
    }
    return;
  }
  // merge with a sibling: (left, child) or (child, right); the result fits (2·min-1 ≤ fanout)
  const j = left !== undefined ? ci - 1 : ci;
  const a = parent.children[j]!;
  const b = parent.children[j + 1]!;
  if (a.type === "leaf" && b.type === "leaf") {
    parent.children[j] = new BLeaf([...a.keys, ...b.keys], [...a.vals, ...b.vals]);
  } else if (a.type === "branch" && b.type === "branch") {
    const ma = a as unknown as MBranch<V>;
    ma.seps = new Seps([...a.seps.keys, parent.seps.keys[j]!, ...b.seps.keys]);
    ma.children.push(...b.children);
  }
  parent.seps = new Seps(removeAt(parent.seps.keys, j));
  parent.children.splice(j + 1, 1);
}

/**
 * Builds a tree from entries already sorted by key (snapshot restore): nodes
 * are filled evenly, so every node satisfies the size invariant.
 */
export function btreeFromSorted<V>(
  keys: readonly string[],
  vals: readonly V[],
  fanout = DEFAULT_FANOUT,
): BTree<V> {
  if (keys.length === 0) return emptyTree(fanout);
  let level: { node: BNode<V>; min: string }[] = [];
  for (const [from, to] of evenSlices(keys.length, fanout)) {
    level.push({
      node: new BLeaf(keys.slice(from, to), vals.slice(from, to)),
      min: keys[from]!,
    });
  }
  while (level.length > 1) {
    const next: { node: BNode<V>; min: string }[] = [];
    for (const [from, to] of evenSlices(level.length, fanout)) {
      const group = level.slice(from, to);
      next.push({
        node: {
          type: "branch",
          seps: new Seps(group.slice(1).map((g) => g.min)),
          children: group.map((g) => g.node),
        },
        min: group[0]!.min,
      });
    }
    level = next;
  }
  return { root: level[0]!.node, size: keys.length, fanout };
}

/** Splits n items into ceil(n/fanout) runs whose sizes differ by at most one. */
function evenSlices(n: number, fanout: number): [number, number][] {
  const parts = Math.ceil(n / fanout);
  const out: [number, number][] = [];
  let from = 0;
  for (let p = 0; p < parts; p++) {
    const size = Math.floor(n / parts) + (p < n % parts ? 1 : 0);
    out.push([from, from + size]);
    from += size;
  }
  return out;
}

/** Checks every invariant; returns a description of the first violation, or undefined. */
export function btreeCheck<V>(t: BTree<V>): string | undefined {
  const min = t.fanout >>> 1;
  let leafDepth = -1;
  let total = 0;
  const walk = (
    node: BNode<V>,
    depth: number,
    lo: string | undefined,
    hi: string | undefined,
    isRoot: boolean,
  ): string | undefined => {
    const n = node.type === "leaf" ? node.keys.length : node.children.length;
    if (n > t.fanout) return `node with ${n} > fanout ${t.fanout}`;
    if (!isRoot && n < min) return `node with ${n} < min ${min}`;
    const keys = node.type === "leaf" ? node.keys : node.seps.keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (i > 0 && !(keys[i - 1]! < k)) return "keys not strictly increasing";
      if (lo !== undefined && k < lo) return "key below its subtree bound";
      if (hi !== undefined && k >= hi) return "key above its subtree bound";
    }
    if (node.type === "leaf") {
      if (node.vals.length !== node.keys.length) return "leaf keys/vals length mismatch";
      if (leafDepth === -1) leafDepth = depth;
      else if (leafDepth !== depth) return "leaves at different depths";
      total += node.keys.length;
      return undefined;
    }
    if (isRoot && n < 2) return "branch root with < 2 children";
    if (keys.length !== n - 1) return "branch separators ≠ children - 1";
    for (let c = 0; c < n; c++) {
      const e = walk(
        node.children[c]!,
        depth + 1,
        c === 0 ? lo : keys[c - 1],
        c === n - 1 ? hi : keys[c],
        false,
      );
      if (e) return e;
    }
    return undefined;
  };
  const e = walk(t.root, 0, undefined, undefined, true);
  if (e) return e;
  if (total !== t.size) return `size ${t.size} but ${total} entries`;
  return undefined;
}

/** Tree height (1 = a single leaf); for tests and benchmarks. */
export function btreeHeight<V>(t: BTree<V>): number {
  let h = 1;
  let node = t.root;
  while (node.type === "branch") {
    node = node.children[0]!;
    h++;
  }
  return h;
}
