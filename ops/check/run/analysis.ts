import type { History, HistoryEntry } from "../history";
import { keysOf } from "../history";

/**
 * Acknowledged writes that a final read shows were lost, by a simple rule
 * (the linearizability check is the authority; this names the victims):
 * for each key with a final linearizable read of value v, find the one write P
 * that produced v (unique values; an incr/append only if exactly one acked op
 * returned v). Every acked write to the key invoked after P returned must be
 * ordered after P, so the final value should not be v: each is reported lost.
 * A final non-null value that no write (acked or unknown) could have produced
 * is reported too.
 */

export interface LostWrite {
  readonly key: string;
  readonly finalValue: string | null;
  /** The op whose value the final read still shows. */
  readonly shownBy: number | null;
  /** An acknowledged write that should have replaced it. */
  readonly lost: number | null;
  readonly message: string;
}

const writesKey = (e: HistoryEntry, key: string): boolean => {
  if (e.op.kind === "get") return false;
  if (
    e.op.kind === "cas" &&
    e.result.status === "ok" &&
    !(e.result as { succeeded: boolean }).succeeded
  )
    return false;
  return keysOf(e.op).includes(key);
};

/** Values op `e` may leave in `key`. */
function producedValues(e: HistoryEntry, key: string): (string | null)[] {
  const op = e.op;
  switch (op.kind) {
    case "put":
    case "cas":
      return [op.value];
    case "delete":
      return [null];
    case "txn":
      return op.deletes.includes(key)
        ? [null]
        : op.puts.filter((p) => p.key === key).map((p) => p.value);
    case "incr":
    case "append":
      return e.result.status === "ok" ? [(e.result as { value: string }).value] : [];
    default:
      return [];
  }
}

export function findLostWrites(history: History, finalReads: readonly HistoryEntry[]): LostWrite[] {
  const out: LostWrite[] = [];
  for (const read of finalReads) {
    if (read.op.kind !== "get" || read.result.status !== "ok") continue;
    const key = read.op.key;
    const v = (read.result as { value: string | null }).value;
    const writes = history.filter((e) => e !== read && writesKey(e, key));
    const producers = writes.filter((w) => producedValues(w, key).includes(v));
    const unknownDerived = writes.some(
      (w) => w.result.status === "unknown" && (w.op.kind === "incr" || w.op.kind === "append"),
    );
    if (v !== null && producers.length === 0) {
      if (!unknownDerived) {
        out.push({
          key,
          finalValue: v,
          shownBy: null,
          lost: null,
          message: `final value of ${key} (${JSON.stringify(v)}) was written by no op`,
        });
      }
      continue;
    }
    if (v === null) {
      const last = writes.filter((w) => w.result.status === "ok").at(-1);
      if (last !== undefined && producers.length === 0) {
        out.push({
          key,
          finalValue: null,
          shownBy: null,
          lost: last.id,
          message: `${key} is absent at the end, but nothing ever deleted it`,
        });
      }
      continue;
    }
    if (producers.length !== 1) continue;
    const p = producers[0]!;
    if (p.result.status !== "ok") continue;
    for (const w of writes) {
      if (w.result.status === "ok" && w.invokeTime > p.returnTime) {
        out.push({
          key,
          finalValue: v,
          shownBy: p.id,
          lost: w.id,
          message:
            `${key}: the final read shows ${JSON.stringify(v)} from op #${p.id}, but acked ` +
            `op #${w.id} (invoked after #${p.id} returned) wrote ${key} too: lost`,
        });
      }
    }
  }
  return out;
}
