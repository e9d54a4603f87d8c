import { effectiveReturn, type History, type HistoryEntry } from "./history";

/**
 * Shortening a failing history to a failing prefix in time, so the report shows
 * the fewest ops that already prove the violation.
 *
 * `truncate(h, c)` keeps the ops invoked at or before `c`, and turns into `unknown`
 * those still outstanding at `c` (returned after it). This is sound: if `h` is
 * linearizable with linearization points p, the ops with p <= c form a legal prefix
 * of that linearization, all kept; every other kept op returned after c and is now
 * unknown, so it can go at the end. Hence "truncate(h, c) fails" implies "h fails",
 * and since truncate(truncate(h, c'), c) = truncate(h, c) for c <= c', failing is
 * monotone in c: a binary search over cut-off times finds the earliest one.
 *
 * Dropping arbitrary ops (delta debugging) is NOT used: removing a write turns a
 * stale read into a "read of a value nobody wrote", a different, misleading story.
 */
export function truncate(history: History, cutoff: number): HistoryEntry[] {
  const kept: HistoryEntry[] = [];
  for (const e of history) {
    if (e.invokeTime > cutoff) continue;
    if (effectiveReturn(e) > cutoff && e.result.status !== "unknown") {
      // A read with an unknown outcome constrains nothing: drop it outright.
      if (e.op.kind === "get") continue;
      kept.push({ ...e, result: { status: "unknown" } } as HistoryEntry);
    } else {
      kept.push(e);
    }
  }
  return kept;
}

/**
 * The earliest cut-off at which `fails` still holds, with the truncated history.
 * `fails(history)` must be true (it is not re-checked); a check that gives up
 * (budget) should answer false, which only makes the result longer, never wrong.
 */
export function shrinkByTime(
  history: History,
  fails: (h: History) => boolean,
): { readonly cutoff: number; readonly entries: History } {
  const times = new Set<number>();
  for (const e of history) {
    times.add(e.invokeTime);
    if (Number.isFinite(effectiveReturn(e))) times.add(e.returnTime);
  }
  const cutoffs = [...times].sort((a, b) => a - b);
  cutoffs.push(Number.POSITIVE_INFINITY); // the whole history: known to fail
  let lo = 0;
  let hi = cutoffs.length - 1;
  let best: History = history;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const candidate = truncate(history, cutoffs[mid]!);
    if (fails(candidate)) {
      hi = mid;
      best = candidate;
    } else {
      lo = mid + 1;
    }
  }
  return { cutoff: cutoffs[hi]!, entries: hi === cutoffs.length - 1 ? history : best };
}
