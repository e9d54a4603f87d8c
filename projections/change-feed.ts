import type { KvEvent, LogIndex } from "../domain";

/**
 * The change feed: every applied key change, in log order, kept in a
 * bounded ring so a watcher can stream from any retained index.
 *
 * Persistent like the KV projection (each append returns a new feed and
 * shares the old chunks), but plain immutable code rather than immer: it is
 * an append-only list of fixed-size chunks, so an append copies at most one
 * chunk and the chunk list. Retention counts changes: at least `retention`
 * most recent changes are kept (plus at most one partly dropped chunk's
 * worth); whole chunks are dropped from the front.
 *
 * The feed is not in snapshots: a replica restored from a snapshot at i
 * starts a feed compacted through i.
 */
export interface Change {
  readonly index: LogIndex;
  readonly key: string;
  readonly type: "put" | "delete";
  /** Present for puts. */
  readonly value?: string;
  /** The new version for a put; the removed version for a delete. */
  readonly version: number;
}

export interface ChangeFeed {
  readonly chunks: readonly (readonly Change[])[];
  readonly size: number;
  readonly retention: number;
  /** Changes at or below this index may be gone: reading from there is refused. */
  readonly compactedThrough: LogIndex;
}

export const FEED_CHUNK = 1024;

export function emptyFeed(retention: number, compactedThrough = 0 as LogIndex): ChangeFeed {
  if (!Number.isInteger(retention) || retention < 1) throw new Error("retention must be ≥ 1");
  return Object.freeze({ chunks: Object.freeze([]), size: 0, retention, compactedThrough });
}

/** The changes carried by decided events (what applyBatch returns as `changes`). */
export function changeOf(e: KvEvent): Change | undefined {
  if (e.type === "KeyPut") {
    return { index: e.index, key: e.key, type: "put", value: e.value, version: e.version };
  }
  if (e.type === "KeyDeleted") {
    return { index: e.index, key: e.key, type: "delete", version: e.version };
  }
  return undefined;
}

export function appendChanges(feed: ChangeFeed, changes: readonly Change[]): ChangeFeed {
  if (changes.length === 0) return feed;
  const chunks = feed.chunks.slice();
  let last =
    chunks.length > 0 && chunks[chunks.length - 1]!.length < FEED_CHUNK
      ? chunks.pop()!.slice()
      : [];
  for (const c of changes) {
    if (last.length === FEED_CHUNK) {
      chunks.push(Object.freeze(last));
      last = [];
    }
    last.push(Object.freeze(c));
  }
  chunks.push(Object.freeze(last));
  let size = feed.size + changes.length;
  let compactedThrough = feed.compactedThrough;
  let drop = 0;
  while (size - chunks[drop]!.length >= feed.retention) {
    const gone = chunks[drop]!;
    compactedThrough = gone[gone.length - 1]!.index;
    size -= gone.length;
    drop++;
  }
  return Object.freeze({
    chunks: Object.freeze(drop > 0 ? chunks.slice(drop) : chunks),
    size,
    retention: feed.retention,
    compactedThrough,
  });
}

export type FeedRead =
  | {
      readonly type: "changes";
      readonly changes: readonly Change[];
      /** Where to continue reading from. */
      readonly nextIndex: LogIndex;
    }
  | {
      readonly type: "compacted";
      /** The oldest index that can still be read from. */
      readonly oldestIndex: LogIndex;
    };

/**
 * Changes with index ≥ fromIndex, at least `limit` of them when available
 * but never splitting one index's changes (a PutMany stays whole).
 */
export function readFeed(feed: ChangeFeed, fromIndex: LogIndex, limit: number): FeedRead {
  if (fromIndex <= feed.compactedThrough) {
    return { type: "compacted", oldestIndex: (feed.compactedThrough + 1) as LogIndex };
  }
  const chunks = feed.chunks;
  // first chunk whose last change is ≥ fromIndex
  let lo = 0;
  let hi = chunks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = chunks[mid]!;
    if (c[c.length - 1]!.index < fromIndex) lo = mid + 1;
    else hi = mid;
  }
  const out: Change[] = [];
  let next = fromIndex;
  for (let ci = lo; ci < chunks.length; ci++) {
    for (const c of chunks[ci]!) {
      if (c.index < fromIndex) continue;
      if (out.length >= limit && out.length > 0 && c.index !== out[out.length - 1]!.index) {
        return { type: "changes", changes: out, nextIndex: c.index };
      }
      out.push(c);
      next = (c.index + 1) as LogIndex;
    }
  }
  return { type: "changes", changes: out, nextIndex: next };
}
