/** Losing the quorum: bounded 503s, local sequential reads, and a paused follower catching up. */

import test, { type ExecutionContext } from "ava";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const TIMEOUT_MS = 1_500;
/** What a 503 may take beyond the request timeout (retry backoff, scheduling). */
const SLACK_MS = 1_500;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await fn();
  return { ms: Date.now() - started, value };
}

/** Checks the lone survivor's answers once the two others are gone (killed or paused). */
async function expectUnavailable(
  t: ExecutionContext,
  url: string,
  knownKey: string,
  knownValue: string,
): Promise<void> {
  const write = await timed(() => request("PUT", `${url}/v1/kv/during`, { value: "lost?" }));
  t.log(`write on the survivor: ${write.value.status} after ${write.ms} ms`);
  t.is(write.value.status, 503, JSON.stringify(write.value.body));
  t.is(write.value.headers.get("retry-after"), "1");
  t.like(write.value.body, { code: "UNAVAILABLE" });
  t.is(typeof write.value.body.error, "string");
  t.true(write.ms < TIMEOUT_MS + SLACK_MS, `503 within the timeout (${write.ms} ms)`);

  const read = await timed(() => getJson(`${url}/v1/kv/${knownKey}`));
  t.log(`linearizable read on the survivor: ${read.value.status} after ${read.ms} ms`);
  t.is(read.value.status, 503, JSON.stringify(read.value.body));
  t.is(read.value.headers.get("retry-after"), "1");
  t.like(read.value.body, { code: "UNAVAILABLE" });
  t.true(read.ms < TIMEOUT_MS + SLACK_MS, `503 within the timeout (${read.ms} ms)`);

  const local = await timed(() => getJson(`${url}/v1/kv/${knownKey}?consistency=sequential`));
  t.is(local.value.status, 200, JSON.stringify(local.value.body));
  t.is(local.value.body.value, knownValue);
  t.true(local.ms < 500, `a sequential read does not wait for the log (${local.ms} ms)`);
}

async function startShortTimeout(t: ExecutionContext): Promise<TestCluster> {
  const c = await TestCluster.start({
    nodes: 3,
    extraArgs: ["--request-timeout-ms", String(TIMEOUT_MS)],
  });
  t.teardown(() => c.stop());
  return c;
}

for (const survivorRole of ["leader", "follower"] as const) {
  test.serial(
    `2 of 3 killed, the ${survivorRole} survives: bounded 503 + Retry-After, sequential reads served`,
    async (t) => {
      const c = await startShortTimeout(t);
      const leader = await c.leader();
      const survivor =
        survivorRole === "leader" ? c.replica(leader) : c.replicas.find((r) => r.id !== leader)!;
      const put = await request("PUT", `${survivor.url}/v1/kv/before`, { value: "safe" });
      t.is(put.status, 200, JSON.stringify(put.body));
      // The survivor has applied it before the others go (a sequential read proves it).
      await waitFor(
        async () =>
          (await getJson(`${survivor.url}/v1/kv/before?consistency=sequential`)).status === 200,
        { timeoutMs: 5_000, message: "the survivor applied the write" },
      );
      for (const r of c.replicas) if (r.id !== survivor.id) await c.kill(r.id);
      await expectUnavailable(t, survivor.url, "before", "safe");
    },
  );
}

test.serial(
  "2 of 3 paused (quorum lost, no amnesia): 503s, then writes resume once one is back",
  async (t) => {
    const c = await startShortTimeout(t);
    const leader = c.replica(await c.leader());
    const put = await request("PUT", `${leader.url}/v1/kv/before`, { value: "safe" });
    t.is(put.status, 200, JSON.stringify(put.body));
    const others = c.replicas.filter((r) => r.id !== leader.id);
    for (const r of others) c.pause(r.id);
    await expectUnavailable(t, leader.url, "before", "safe");
    c.resume(others[0]!.id);
    const back = await timed(() =>
      waitFor(
        async () => {
          const a = await request("PUT", `${leader.url}/v1/kv/after`, { value: "ok" });
          return a.status === 200 ? a : null;
        },
        { timeoutMs: 20_000, intervalMs: 100, message: "writes succeed after a resume" },
      ),
    );
    t.log(`writes succeed again ${back.ms} ms after one replica was resumed`);
    const read = await getJson(`${c.replica(others[0]!.id).url}/v1/kv/after`);
    t.is(read.status, 200, JSON.stringify(read.body));
    t.is(read.body.value, "ok");
  },
);

// With 2 of 3 killed (both lose their memory), a value chosen by those two may
// exist nowhere else: the survivor alone must never complete a Phase 1, and a
// restarted amnesiac does not vote in one (README, "Operating rules"). The
// cluster refuses writes and linearizable reads for good rather than risk
// choosing over such a value; the survivor still serves its local state.
test.serial(
  "2 of 3 killed, one restarted empty: writes stay refused (never a lost value), local reads still answer",
  async (t) => {
    const c = await startShortTimeout(t);
    const leader = c.replica(await c.leader());
    t.is((await request("PUT", `${leader.url}/v1/kv/before`, { value: "safe" })).status, 200);
    const others = c.replicas.filter((r) => r.id !== leader.id);
    for (const r of others) await c.kill(r.id);
    await c.restart(others[0]!.id, 10_000, false);
    const restarted = c.replica(others[0]!.id);
    t.true(
      (await getJson(`${restarted.url}/v1/cluster`)).body.recovering,
      "the restarted replica is recovering",
    );
    await expectUnavailable(t, leader.url, "before", "safe");
    t.true(
      (await getJson(`${restarted.url}/v1/cluster`)).body.recovering,
      "and it stays recovering",
    );
  },
);

test.serial(
  "a paused follower does not stop the writes, and catches up when resumed",
  async (t) => {
    const c = await TestCluster.start({ nodes: 3 });
    t.teardown(() => c.stop());
    const leader = c.replica(await c.leader());
    const follower = c.replicas.find((r) => r.id !== leader.id)!;
    let last = 0;
    for (let i = 0; i < 60; i++) {
      if (i === 10) c.pause(follower.id);
      const a = await request("PUT", `${leader.url}/v1/kv/p-${i % 7}`, { value: `v${i}` });
      t.is(a.status, 200, `write ${i}: ${JSON.stringify(a.body)}`);
      last = a.body.index;
    }
    // Paused past its lease TTL: wait until the leader's view shows it down.
    await waitFor(
      async () =>
        (await getJson(`${leader.url}/v1/cluster`)).body.members.find(
          (m: { id: number }) => m.id === follower.id,
        )?.status === "down",
      { timeoutMs: 10_000, intervalMs: 50, message: "the paused follower's lease expires" },
    );
    c.resume(follower.id);
    const resumedAt = Date.now();
    const read = await waitFor(
      async () => {
        const a = await getJson(`${follower.url}/v1/kv/p-3?consistency=sequential`, {
          "X-Paxlog-Min-Index": String(last),
        }).catch(() => null);
        return a?.status === 200 ? a : null;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 100,
        message: "the resumed follower reaches the last write",
      },
    );
    t.log(`resumed follower caught up to index ${last} in ${Date.now() - resumedAt} ms`);
    t.is(read.body.value, "v59");
    t.true(read.body.index >= last);
  },
);
