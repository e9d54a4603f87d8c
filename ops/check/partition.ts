import { type History, type HistoryEntry, keysOf } from "./history";

/**
 * Splitting a history into independently checkable parts.
 *
 * Linearizability is local (Herlihy & Wing): a history is linearizable iff its
 * restriction to each object is. With single-key ops each key is an object. A txn
 * writes several keys in one step, so the keys it touches must form one object:
 * partitions are the connected components of the graph whose nodes are keys and
 * whose edges are txns (union-find). Each op then belongs to exactly one partition.
 */

export interface Partition {
  /** Sorted, so a partition is named the same way on every run. */
  readonly keys: readonly string[];
  /** In history order. */
  readonly entries: readonly HistoryEntry[];
}

/**
 * Ops the linearizability check ignores:
 * - sequential reads: they are only sequentially consistent by design (DESIGN.md
 *   §3), checked by `sequential.ts` instead;
 * - reads with an unknown outcome: no effect and no observed output, so they
 *   constrain nothing, and leaving them in only widens the search.
 */
export function isLinearizabilityRelevant(entry: HistoryEntry): boolean {
  if (entry.op.kind !== "get") return true;
  return entry.op.consistency !== "sequential" && entry.result.status !== "unknown";
}

export function partitionHistory(history: History): Partition[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    // Path compression keeps later finds O(α).
    let cur = k;
    while (cur !== root) {
      const up = parent.get(cur)!;
      parent.set(cur, root);
      cur = up;
    }
    return root;
  };
  const relevant = history.filter(isLinearizabilityRelevant);
  for (const e of relevant) {
    const keys = keysOf(e.op);
    for (const k of keys) if (!parent.has(k)) parent.set(k, k);
    for (let i = 1; i < keys.length; i++) {
      const a = find(keys[0]!);
      const b = find(keys[i]!);
      if (a !== b) parent.set(b, a);
    }
  }
  const groups = new Map<string, { keys: string[]; entries: HistoryEntry[] }>();
  for (const k of parent.keys()) {
    const root = find(k);
    let g = groups.get(root);
    if (g === undefined) {
      g = { keys: [], entries: [] };
      groups.set(root, g);
    }
    g.keys.push(k);
  }
  for (const e of relevant) groups.get(find(keysOf(e.op)[0]!))!.entries.push(e);
  return [...groups.values()]
    .map((g) => ({ keys: g.keys.sort(), entries: g.entries }))
    .sort((a, b) => (a.keys[0]! < b.keys[0]! ? -1 : 1));
}
