import test from "ava";
import { del, type LogIndex, put, putMany } from "../../domain";
import {
  appendChanges,
  applyBatch,
  type ChangeFeed,
  createProjection,
  emptyFeed,
  FEED_CHUNK,
  readFeed,
} from "../../projections";

test("applied changes flow into the feed and can be read from any index", (t) => {
  let p = createProjection();
  let feed = emptyFeed(10_000);
  const entries = [
    [put("c", 1, "a", "1")],
    [
      putMany("c", 2, [
        { key: "a", value: "2" },
        { key: "b", value: "3" },
      ]),
      del("d", 1, "zz"),
    ],
    [del("c", 3, "a")],
  ];
  entries.forEach((cmds, i) => {
    const r = applyBatch(p, (i + 1) as LogIndex, cmds);
    p = r.projection;
    feed = appendChanges(feed, r.changes);
  });
  t.deepEqual(readFeed(feed, 1 as LogIndex, 100), {
    type: "changes",
    changes: [
      { index: 1, key: "a", type: "put", value: "1", version: 1 },
      { index: 2, key: "a", type: "put", value: "2", version: 2 },
      { index: 2, key: "b", type: "put", value: "3", version: 1 },
      { index: 3, key: "a", type: "delete", version: 2 },
    ],
    nextIndex: 4,
  });
  const from2 = readFeed(feed, 2 as LogIndex, 1);
  // the limit never splits one entry's changes
  t.like(from2, { type: "changes", nextIndex: 3 });
  if (from2.type === "changes") t.is(from2.changes.length, 2);
  t.deepEqual(readFeed(feed, 9 as LogIndex, 10), { type: "changes", changes: [], nextIndex: 9 });
});

test("reading below the retention answers compacted, not a partial list", (t) => {
  let feed: ChangeFeed = emptyFeed(FEED_CHUNK);
  for (let i = 1; i <= 5 * FEED_CHUNK; i++) {
    feed = appendChanges(feed, [
      { index: i as LogIndex, key: "k", type: "put", value: "v", version: i },
    ]);
  }
  t.true(feed.size >= FEED_CHUNK);
  t.true(feed.size <= 2 * FEED_CHUNK);
  const old = readFeed(feed, 1 as LogIndex, 10);
  t.is(old.type, "compacted");
  if (old.type !== "compacted") return;
  const ok = readFeed(feed, old.oldestIndex, 10);
  t.like(ok, { type: "changes" });
  if (ok.type === "changes") t.is(ok.changes[0]!.index, old.oldestIndex);
  t.is(readFeed(feed, (old.oldestIndex - 1) as LogIndex, 10).type, "compacted");
  // the last retention-many changes are all there
  const recent = readFeed(feed, (5 * FEED_CHUNK - FEED_CHUNK + 1) as LogIndex, 10 * FEED_CHUNK);
  if (recent.type === "changes") t.is(recent.changes.length, FEED_CHUNK);
  else t.fail();
});

test("a feed restarted after a snapshot refuses indexes it never saw", (t) => {
  const feed = emptyFeed(100, 50 as LogIndex);
  t.deepEqual(readFeed(feed, 50 as LogIndex, 10), {
    type: "compacted",
    oldestIndex: 51 as LogIndex,
  });
  t.like(readFeed(feed, 51 as LogIndex, 10), { type: "changes" });
});
