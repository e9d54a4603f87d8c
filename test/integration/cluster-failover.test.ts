import anyTest, { type TestFn } from "ava";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const test = anyTest.serial as TestFn<{ cluster: TestCluster }>;

// Snapshots every 20 entries, 5 kept behind: a restarted replica must catch up by snapshot.
test.before(async (t) => {
  t.context.cluster = await TestCluster.start({ nodes: 3, snapshotEvery: 20, retainTail: 5 });
});
test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

const live = (c: TestCluster) => c.replicas.filter((r) => r.process !== null);

/** Writes through `via` until one succeeds; returns the ms it took and the answer. */
async function writeUntilAccepted(url: string, key: string, value: string, deadlineMs: number) {
  const started = Date.now();
  const answer = await waitFor(
    async () => {
      const a = await request("PUT", `${url}/v1/kv/${key}`, { value }).catch(() => null);
      return a?.status === 200 ? a : null;
    },
    { timeoutMs: deadlineMs, intervalMs: 20, message: `a write of ${key} succeeds` },
  );
  return { ms: Date.now() - started, answer };
}

test("kill -9 of the leader: a new leader is elected through etcd and writes succeed again", async (t) => {
  const c = t.context.cluster;
  await request("PUT", `${c.replica(1).url}/v1/kv/before`, { value: "1" });
  const leader = await c.leader();
  await c.kill(leader);
  const other = live(c)[0]!;
  const { ms, answer } = await writeUntilAccepted(other.url, "after-failover", "yes", 20_000);
  t.log(`leader ${leader} killed; first write accepted after ${ms} ms (lease TTL 1 s)`);
  t.is(answer.body.value, "yes");
  const newLeader = await c.leader();
  t.not(newLeader, leader);
  t.is((await getJson(`${other.url}/v1/kv/before`)).body.value, "1", "nothing chosen was lost");
  await c.restart(leader);
});

test("killing a follower never stops the writes", async (t) => {
  const c = t.context.cluster;
  const leader = await c.leader();
  const follower = live(c).find((r) => r.id !== leader)!;
  const writer = c.replica(leader);
  let failures = 0;
  for (let i = 0; i < 60; i++) {
    if (i === 10) await c.kill(follower.id);
    const a = await request("PUT", `${writer.url}/v1/kv/steady-${i % 7}`, { value: String(i) });
    if (a.status !== 200) failures++;
  }
  t.is(failures, 0);
  await c.restart(follower.id);
});

test("a replica restarted empty catches up by snapshot and log, then serves consistent reads", async (t) => {
  const c = t.context.cluster;
  const leader = await c.leader();
  const victim = live(c).find((r) => r.id !== leader)!;
  await c.kill(victim.id);
  // Far more than a snapshot interval while it is down: the others compact past it.
  let last = 0;
  for (let i = 0; i < 80; i++) {
    const a = await request("PUT", `${c.replica(leader).url}/v1/kv/catchup-${i % 13}`, {
      value: `v${i}`,
    });
    t.is(a.status, 200);
    last = a.body.index;
  }
  const leaderView = (await getJson(`${c.replica(leader).url}/v1/cluster`)).body;
  t.true(leaderView.logStartsAfter > 0, "the leader compacted its log");
  const restarted = Date.now();
  await c.restart(victim.id);
  t.log(
    `restarted replica ${victim.id} caught up and left recovery in ${Date.now() - restarted} ms`,
  );
  const read = await waitFor(
    async () => {
      const a = await getJson(`${victim.url}/v1/kv/catchup-1?consistency=sequential`, {
        "X-Paxlog-Min-Index": String(last),
      });
      return a.status === 200 ? a : null;
    },
    {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: "the restarted replica reaches the latest index",
    },
  );
  t.is(read.body.value, "v79");
  const everything = async (url: string) =>
    (
      await getJson(`${url}/v1/kv?prefix=&limit=10000&consistency=sequential`, {
        "X-Paxlog-Min-Index": String(last),
      })
    ).body.items;
  t.deepEqual(await everything(victim.url), await everything(c.replica(leader).url));
  t.true(
    victim.log.some((line) => line.includes("installed a snapshot")),
    "it installed a snapshot",
  );
});
