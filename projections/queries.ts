import type { KeyEntry, LogIndex } from "../domain";
import { btreeGet, btreeScan } from "./btree";
import type { KvProjection } from "./kv-projection";

/**
 * Read-side queries over one immutable projection version. Ordered queries
 * seek into the B+tree and walk forward: cost O(log n + returned), never a
 * scan of the key space. Order is UTF-16 code unit order (JS `<`).
 * Every answer carries the `index` it reflects (the min-index token).
 */
export interface KeyValueItem {
  readonly key: string;
  readonly value: string;
  readonly version: number;
  readonly modIndex: LogIndex;
}

export interface GetAnswer {
  readonly index: LogIndex;
  readonly item: KeyValueItem | undefined;
}

export interface ListAnswer<T> {
  readonly index: LogIndex;
  readonly items: readonly T[];
  /** True when `limit` cut the answer short; continue from after the last item. */
  readonly more: boolean;
}

const item = (key: string, e: KeyEntry): KeyValueItem => ({
  key,
  value: e.value,
  version: e.version,
  modIndex: e.modIndex,
});

export function get(p: KvProjection, key: string): GetAnswer {
  const e = btreeGet(p.kv, key);
  return { index: p.appliedIndex, item: e === undefined ? undefined : item(key, e) };
}

/** One answer per requested key, in request order (`undefined` for absent keys). */
export function multiGet(
  p: KvProjection,
  keys: readonly string[],
): { readonly index: LogIndex; readonly items: readonly (KeyValueItem | undefined)[] } {
  return {
    index: p.appliedIndex,
    items: keys.map((k) => {
      const e = btreeGet(p.kv, k);
      return e === undefined ? undefined : item(k, e);
    }),
  };
}

/** Entries with start ≤ key < end (end undefined = to the last key), at most `limit`. */
export function range(
  p: KvProjection,
  start: string,
  end: string | undefined,
  limit: number,
): ListAnswer<KeyValueItem> {
  const items: KeyValueItem[] = [];
  let more = false;
  btreeScan(p.kv, start, (k, e) => {
    if (end !== undefined && k >= end) return false;
    if (items.length >= limit) {
      more = true;
      return false;
    }
    items.push(item(k, e));
    return true;
  });
  return { index: p.appliedIndex, items, more };
}

/**
 * Keys starting with `prefix` (all keys when ""), in order, at most `limit`,
 * beginning after `after` when given (for paging).
 */
export function listKeys(
  p: KvProjection,
  prefix: string,
  limit: number,
  after?: string,
): ListAnswer<string> {
  const keys: string[] = [];
  let more = false;
  const start = after !== undefined && after >= prefix ? after : prefix;
  btreeScan(p.kv, start, (k) => {
    if (!k.startsWith(prefix)) return false; // past the prefix's contiguous run
    if (k === after) return true;
    if (keys.length >= limit) {
      more = true;
      return false;
    }
    keys.push(k);
    return true;
  });
  return { index: p.appliedIndex, items: keys, more };
}

export function count(p: KvProjection): number {
  return p.kv.size;
}
