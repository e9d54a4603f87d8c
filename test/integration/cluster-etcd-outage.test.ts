/** etcd frozen (SIGSTOP) under a running cluster: consensus keeps serving, then all is restored. */

import test from "ava";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const OUTAGE_MS = 3_000;

test("with etcd paused for 3 s the leader keeps serving writes and reads; afterwards etcd is seen again", async (t) => {
  const c = await TestCluster.start({ nodes: 3 });
  let paused = false;
  t.teardown(async () => {
    if (paused) c.etcd.resume();
    await c.stop();
  });
  const leaderId = await c.leader();
  const leader = c.replica(leaderId);
  const follower = c.replicas.find((r) => r.id !== leaderId)!;
  t.is((await request("PUT", `${leader.url}/v1/kv/before`, { value: "0" })).status, 200);
  const pids = c.replicas.map((r) => r.process!.pid);

  c.etcd.pause();
  paused = true;
  const pausedAt = Date.now();
  const failures: string[] = [];
  let writes = 0;
  let last = 0;
  // Bounded: at most 1000 rounds, and only while the outage lasts.
  for (let i = 0; i < 1000 && Date.now() - pausedAt < OUTAGE_MS; i++) {
    const w = await request("PUT", `${leader.url}/v1/kv/outage`, { value: String(i) });
    if (w.status === 200) {
      writes++;
      last = w.body.index;
    } else
      failures.push(
        `write ${i} at +${Date.now() - pausedAt} ms: ${w.status} ${JSON.stringify(w.body)}`,
      );
    const r = await getJson(`${leader.url}/v1/kv/outage`);
    if (r.status !== 200 || r.body.value !== String(i))
      failures.push(
        `read ${i} at +${Date.now() - pausedAt} ms: ${r.status} ${JSON.stringify(r.body)}`,
      );
  }
  // A follower forwards to the leader it last heard of.
  const forwarded = await request("PUT", `${follower.url}/v1/kv/forwarded`, { value: "yes" });
  const views = await Promise.all(c.replicas.map((r) => getJson(`${r.url}/v1/cluster`)));
  c.etcd.resume();
  paused = false;
  const outageMs = Date.now() - pausedAt;
  t.log(`etcd paused ${outageMs} ms: ${writes} writes succeeded, ${failures.length} failures`);
  t.log(`during the outage: etcdReachable = ${views.map((v) => v.body.etcdReachable)}`);
  t.deepEqual(failures.slice(0, 5), [], c.logs());
  t.true(writes > 10, `writes went on during the outage (${writes})`);
  t.is(
    forwarded.status,
    200,
    `a write through follower ${follower.id}: ${JSON.stringify(forwarded.body)}`,
  );
  t.true(
    views.some((v) => v.body.etcdReachable === false),
    "at least one replica noticed that etcd was gone",
  );
  t.true(
    c.replicas.every((r, i) => r.process !== null && r.process.pid === pids[i]),
    "no replica process exited",
  );

  // After the freeze etcd may still expire the leases it could not renew: ask for a
  // state that holds for 2 s (twice the lease TTL), not a first glimpse.
  const resumedAt = Date.now();
  let healthySince: number | null = null;
  const glitches: string[] = [];
  await waitFor(
    async () => {
      const bad: string[] = [];
      for (const r of c.replicas) {
        const v = (await getJson(`${r.url}/v1/cluster`)).body;
        if (v.etcdReachable !== true) bad.push(`${r.id}: etcdReachable ${v.etcdReachable}`);
        for (const m of v.members as { id: number; status: string }[])
          if (m.status !== "up") bad.push(`${r.id} sees ${m.id} ${m.status}`);
      }
      const now = Date.now();
      if (bad.length > 0) {
        if (healthySince !== null) glitches.push(`+${now - resumedAt} ms: ${bad.join(", ")}`);
        healthySince = null;
        return false;
      }
      healthySince ??= now;
      return now - healthySince >= 2_000;
    },
    { timeoutMs: 20_000, intervalMs: 100, message: "every replica sees etcd and all members up" },
  ).catch((err) => {
    throw new Error(`${err.message}\n${glitches.join("\n")}\n${c.logs()}`);
  });
  t.log(
    `etcd reachable and all members up on every replica from ${healthySince! - resumedAt} ms after resume (held 2 s)`,
  );
  if (glitches.length > 0) t.log(`relapses after a first healthy view: ${glitches.join("; ")}`);
  t.log(`leader before the outage ${leaderId}, after ${await c.leader()}`);
  const after = await request("PUT", `${follower.url}/v1/kv/after`, { value: "ok" });
  t.is(after.status, 200, JSON.stringify(after.body));
  const read = await getJson(`${c.replica(3).url}/v1/kv/outage?consistency=sequential`, {
    "X-Paxlog-Min-Index": String(last),
  });
  t.is(read.status, 200, JSON.stringify(read.body));
});
