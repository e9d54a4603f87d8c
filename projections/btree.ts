/**
 * A persistent B+tree of small nodes, sorted by key in UTF-16 code unit
 * order (JavaScript's `<` on strings; used everywhere: queries, snapshots,
 * digests).
 *
 * Why a tree: copying a flat 100k-entry Map per batch is ~30 ms. Here a
 * write copies only the nodes on one root-to-leaf path (each ≤ `fanout`
 * slots), every other node is shared with the previous version, and a
 * snapshot is just the frozen root.
 *
 * Persistence is done here, not by immer: nodes are class instances, so
 * immer never drafts them (a draft of the tree would pay a proxy trap and
 * an `isDraftable` check on every node read of every lookup; that was ~30%
 * of the apply path). The mutating functions (`btreeSet`, `btreeDelete`)
 * take the tree header `t` (an immer draft, or a header you own) and an
 * optional `Edit`: a node created during that edit is changed in place by
 * later writes of the same edit (so a batch copies each touched node once),
 * any other node is copied first. `edit.finish()` freezes every node the
 * edit created (node and arrays); without an edit, each call is its own
 * edit. Published nodes are therefore always frozen and never change.
 *
 * The read functions work on any version, during an edit or not.
 *
 * Invariants (checked by `btreeCheck`): keys strictly increasing; all leaves
 * at the same depth; every node except the root holds between
 * `fanout/2` and `fanout` keys (leaf) or children (branch); a branch with n
 * children has n-1 separators and child i holds keys in
 * [seps[i-1], seps[i]).
 *
 * Values are stored as-is and treated as immutable; store frozen non-plain
 * records (class instances) so immer never proxies them (see records.ts).
 */

/** One write session: nodes it created may be mutated until `finish()`. */
export class Edit {
  private created: BNode<unknown>[] | undefined = [];

  /** @internal Registers a node created by this edit. */
  adopt<N extends BNode<unknown>>(node: N): N {
    if (this.created === undefined) throw new Error("invariant: btree edit already finished");
    this.created.push(node);
    return node;
  }

  /** Freezes every node this edit created; the edit cannot be used afterwards. */
  finish(): void {
    const created = this.created;
    if (created === undefined) return;
    this.created = undefined;
    for (let i = 0; i < created.length; i++) {
      const n = created[i]!;
      Object.freeze(n.keys);
      if (n.type === "leaf") Object.freeze(n.vals);
      else Object.freeze(n.children);
      Object.freeze(n);
    }
  }

  get finished(): boolean {
    return this.created === undefined;
  }
}

/** A sorted run of entries. Frozen once published (see `Edit`). */
export class BLeaf<V> {
  readonly type = "leaf" as const;
  constructor(
    readonly keys: readonly string[],
    readonly vals: readonly V[],
    /** The edit that created it (may mutate it until the edit finishes). */
    readonly edit: Edit | undefined,
  ) {}
}

/** `keys` are the separators: child i holds keys in [keys[i-1], keys[i]). */
export class BBranch<V> {
  readonly type = "branch" as const;
  constructor(
    readonly keys: readonly string[],
    readonly children: readonly BNode<V>[],
    readonly edit: Edit | undefined,
  ) {}
}

export type BNode<V> = BLeaf<V> | BBranch<V>;

export interface BTree<V> {
  readonly root: BNode<V>;
  readonly size: number;
  /** Max keys per leaf and max children per branch (≥ 4; min is fanout/2). */
  readonly fanout: number;
}

// Mutable views used by the in-place algorithms on nodes the edit owns.
interface MLeaf<V> {
  type: "leaf";
  keys: string[];
  vals: V[];
  edit: Edit | undefined;
}
interface MBranch<V> {
  type: "branch";
  keys: string[];
  children: BNode<V>[];
  edit: Edit | undefined;
}
/** The tree header seen as mutable (an immer draft of a `BTree` has this shape). */
export interface MTree<V> {
  root: BNode<V>;
  size: number;
  fanout: number;
}

export const DEFAULT_FANOUT = 64;

const frozenLeaf = <V>(keys: string[], vals: V[]): BLeaf<V> => {
  Object.freeze(keys);
  Object.freeze(vals);
  return Object.freeze(new BLeaf(keys, vals, undefined));
};
const frozenBranch = <V>(keys: string[], children: BNode<V>[]): BBranch<V> => {
  Object.freeze(keys);
  Object.freeze(children);
  return Object.freeze(new BBranch(keys, children, undefined));
};

export function emptyTree<V>(fanout = DEFAULT_FANOUT): BTree<V> {
  if (!Number.isInteger(fanout) || fanout < 4) throw new Error("fanout must be an integer ≥ 4");
  return { root: frozenLeaf<V>([], []), size: 0, fanout };
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
  while (node.type === "branch") node = node.children[upperBound(node.keys, key)]!;
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
  const first = start === undefined ? 0 : upperBound(node.keys, start);
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

function ownLeaf<V>(n: BLeaf<V>, edit: Edit): MLeaf<V> {
  if (n.edit === edit) return n as unknown as MLeaf<V>;
  return edit.adopt(new BLeaf([...n.keys], [...n.vals], edit)) as unknown as MLeaf<V>;
}

function ownBranch<V>(n: BBranch<V>, edit: Edit): MBranch<V> {
  if (n.edit === edit) return n as unknown as MBranch<V>;
  return edit.adopt(new BBranch([...n.keys], [...n.children], edit)) as unknown as MBranch<V>;
}

// Out-parameters of setIn (no result object per level per write).
let added = false;
let splitSep = "";
let splitRight: BNode<unknown> | undefined;

/** Inserts or replaces; returns true when the key is new. */
export function btreeSet<V>(t: MTree<V>, key: string, val: V, edit?: Edit): boolean {
  const e = edit ?? new Edit();
  if (e.finished) throw new Error("invariant: btree edit already finished");
  added = false;
  splitRight = undefined;
  let root = setIn(t.root, key, val, t.fanout, e);
  const right = splitRight as BNode<V> | undefined;
  if (right !== undefined) {
    splitRight = undefined;
    root = e.adopt(new BBranch([splitSep], [root, right], e));
  }
  if (root !== t.root) t.root = root;
  const wasAdded = added;
  if (wasAdded) t.size++;
  if (edit === undefined) e.finish();
  return wasAdded;
}

/** Returns the node to put in the parent's slot; sets `added` and the split out-params. */
function setIn<V>(node: BNode<V>, key: string, val: V, fanout: number, edit: Edit): BNode<V> {
  if (node.type === "leaf") {
    const i = lowerBound(node.keys, key);
    if (i < node.keys.length && node.keys[i] === key) {
      const l = ownLeaf(node, edit);
      l.vals[i] = val;
      return l as unknown as BLeaf<V>;
    }
    added = true;
    const l = ownLeaf(node, edit);
    l.keys.splice(i, 0, key);
    l.vals.splice(i, 0, val);
    if (l.keys.length > fanout) {
      const half = l.keys.length >>> 1;
      const right = edit.adopt(new BLeaf(l.keys.splice(half), l.vals.splice(half), edit));
      splitSep = right.keys[0]!;
      splitRight = right;
    }
    return l as unknown as BLeaf<V>;
  }
  const ci = upperBound(node.keys, key);
  const child = node.children[ci]!;
  const nc = setIn(child, key, val, fanout, edit);
  const right = splitRight as BNode<V> | undefined;
  if (nc === child && right === undefined) return node;
  const b = ownBranch(node, edit);
  b.children[ci] = nc;
  if (right === undefined) return b as unknown as BBranch<V>;
  splitRight = undefined;
  b.keys.splice(ci, 0, splitSep);
  b.children.splice(ci + 1, 0, right);
  if (b.children.length > fanout) {
    // split: the left keeps `half` children; the separator between them moves up
    const half = b.children.length >>> 1;
    const children = b.children.splice(half);
    const seps = b.keys.splice(half - 1);
    splitSep = seps.shift()!;
    splitRight = edit.adopt(new BBranch(seps, children, edit));
  }
  return b as unknown as BBranch<V>;
}

/** Removes the key; returns true when it was present. */
export function btreeDelete<V>(t: MTree<V>, key: string, edit?: Edit): boolean {
  const e = edit ?? new Edit();
  if (e.finished) throw new Error("invariant: btree edit already finished");
  let root = deleteIn(t.root, key, t.fanout >>> 1, e);
  if (root !== undefined) {
    if (root.type === "branch" && root.children.length === 1) root = root.children[0]!;
    if (root !== t.root) t.root = root;
    t.size--;
  }
  if (edit === undefined) e.finish();
  return root !== undefined;
}

const count = <V>(n: BNode<V>) => (n.type === "leaf" ? n.keys.length : n.children.length);

/** undefined = not found; otherwise the (owned) node to put in the parent's slot. */
function deleteIn<V>(node: BNode<V>, key: string, min: number, edit: Edit): BNode<V> | undefined {
  if (node.type === "leaf") {
    const i = lowerBound(node.keys, key);
    if (i >= node.keys.length || node.keys[i] !== key) return undefined;
    const l = ownLeaf(node, edit);
    l.keys.splice(i, 1);
    l.vals.splice(i, 1);
    return l as unknown as BLeaf<V>;
  }
  const ci = upperBound(node.keys, key);
  const r = deleteIn(node.children[ci]!, key, min, edit);
  if (r === undefined) return undefined;
  const b = ownBranch(node, edit);
  b.children[ci] = r;
  if (count(r) < min) rebalance(b, ci, min, edit);
  return b as unknown as BBranch<V>;
}

/** Child `ci` of `parent` (owned) is one under the minimum: borrow from a sibling or merge. */
function rebalance<V>(parent: MBranch<V>, ci: number, min: number, edit: Edit): void {
  const child = parent.children[ci]!;
  const left = ci > 0 ? parent.children[ci - 1]! : undefined;
  const right = ci + 1 < parent.children.length ? parent.children[ci + 1]! : undefined;
  if (left !== undefined && count(left) > min) {
    if (child.type === "leaf" && left.type === "leaf") {
      const l = ownLeaf(left, edit);
      const c = ownLeaf(child, edit);
      c.keys.unshift(l.keys.pop()!);
      c.vals.unshift(l.vals.pop()!);
      parent.children[ci - 1] = l as unknown as BLeaf<V>;
      parent.keys[ci - 1] = c.keys[0]!;
    } else if (child.type === "branch" && left.type === "branch") {
      const l = ownBranch(left, edit);
      const c = ownBranch(child, edit);
      c.children.unshift(l.children.pop()!);
      c.keys.unshift(parent.keys[ci - 1]!);
      parent.keys[ci - 1] = l.keys.pop()!;
      parent.children[ci - 1] = l as unknown as BBranch<V>;
    }
    return;
  }
  if (right !== undefined && count(right) > min) {
    if (child.type === "leaf" && right.type === "leaf") {
      const r = ownLeaf(right, edit);
      const c = ownLeaf(child, edit);
      c.keys.push(r.keys.shift()!);
      c.vals.push(r.vals.shift()!);
      parent.children[ci + 1] = r as unknown as BLeaf<V>;
      parent.keys[ci] = r.keys[0]!;
    } else if (child.type === "branch" && right.type === "branch") {
      const r = ownBranch(right, edit);
      const c = ownBranch(child, edit);
      c.keys.push(parent.keys[ci]!);
      c.children.push(r.children.shift()!);
      parent.keys[ci] = r.keys.shift()!;
      parent.children[ci + 1] = r as unknown as BBranch<V>;
    }
    return;
  }
  // merge with a sibling: (left, child) or (child, right); the result fits (2·min-1 ≤ fanout)
  const j = left !== undefined ? ci - 1 : ci;
  const a = parent.children[j]!;
  const b = parent.children[j + 1]!;
  if (a.type === "leaf" && b.type === "leaf") {
    const m = ownLeaf(a, edit);
    for (let i = 0; i < b.keys.length; i++) {
      m.keys.push(b.keys[i]!);
      m.vals.push(b.vals[i]!);
    }
    parent.children[j] = m as unknown as BLeaf<V>;
  } else if (a.type === "branch" && b.type === "branch") {
    const m = ownBranch(a, edit);
    m.keys.push(parent.keys[j]!);
    for (const k of b.keys) m.keys.push(k);
    for (const c of b.children) m.children.push(c);
    parent.children[j] = m as unknown as BBranch<V>;
  }
  parent.keys.splice(j, 1);
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
      node: frozenLeaf(keys.slice(from, to), vals.slice(from, to)),
      min: keys[from]!,
    });
  }
  while (level.length > 1) {
    const next: { node: BNode<V>; min: string }[] = [];
    for (const [from, to] of evenSlices(level.length, fanout)) {
      const group = level.slice(from, to);
      next.push({
        node: frozenBranch(
          group.slice(1).map((g) => g.min),
          group.map((g) => g.node),
        ),
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
    const keys = node.keys;
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
