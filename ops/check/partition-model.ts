import { type HistoryEntry, keysOf } from "./history";
import { applyOp, resultMatches } from "./kv-model";
import type { SearchModel } from "./search";

/**
 * The KV model restricted to the keys of one partition, in the shape the search
 * wants: immutable states with a cheap hash and equality. A state is one value per
 * key slot; its hash is kept up to date incrementally so the search never rehashes
 * long (appended) values it did not touch.
 */
export interface PartitionState {
  readonly values: readonly (string | null)[];
  readonly slotHashes: readonly number[];
  readonly hash: number;
}

export function partitionModel(keys: readonly string[]): SearchModel<PartitionState, HistoryEntry> {
  const slots = new Map(keys.map((k, i) => [k, i] as const));
  const slotOf = (key: string): number => {
    const s = slots.get(key);
    if (s === undefined) throw new Error(`key ${JSON.stringify(key)} not in partition`);
    return s;
  };
  const slotHashes = keys.map((_, i) => mixSlot(i, hashValue(null)));
  const init: PartitionState = {
    values: keys.map(() => null),
    slotHashes,
    hash: slotHashes.reduce((a, b) => (a ^ b) >>> 0, 0),
  };
  return {
    init,
    step(state, entry) {
      const effect = applyOp(entry.op, (key) => state.values[slotOf(key)]!);
      if (effect.kind === "failed") {
        // A known-result op that failed would have been dropped by the caller, so
        // it cannot be here; an unknown one may be exactly this no-op.
        return entry.result.status === "unknown" ? state : undefined;
      }
      if (!resultMatches(entry.op, entry.result, effect.result)) return undefined;
      if (effect.writes.length === 0) return state;
      const values = state.values.slice();
      const hashes = state.slotHashes.slice();
      let hash = state.hash;
      for (const [key, value] of effect.writes) {
        const s = slotOf(key);
        values[s] = value;
        hash ^= hashes[s]!;
        hashes[s] = mixSlot(s, hashValue(value));
        hash ^= hashes[s]!;
      }
      return { values, slotHashes: hashes, hash: hash >>> 0 };
    },
    equal(a, b) {
      if (a.hash !== b.hash) return false;
      for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
      return true;
    },
    hash: (state) => state.hash,
    readOnly: (entry) => entry.op.kind === "get",
    footprint: (entry) => keysOf(entry.op).map(slotOf),
    footprintSize: keys.length,
  };
}

/** FNV-1a; null gets its own value so "absent" and "" differ. */
function hashValue(value: string | null): number {
  if (value === null) return 0x6b43a9b5;
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mixSlot(slot: number, valueHash: number): number {
  let h = (valueHash ^ Math.imul(slot + 1, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}
