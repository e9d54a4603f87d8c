/**
 * End to end on the compose cluster (docker-compose.yml, five replicas and
 * etcd in containers), with faults made by the ops/docker scripts. Run by
 * `npm run docker:build && npm run test:e2e` (ava.e2e.config.mjs); the default
 * pass leaves test/e2e out. The tests share one cluster, in order; it is torn
 * down at the end whatever happens.
 */
import test from "ava";
import {
  call,
  containers,
  kvPath,
  replicaStates,
  until,
  Writer,
} from "../../ops/docker/compose-cluster";
import {
  caughtUp,
  composeDown,
  composeUp,
  opsScript,
  recentLogs,
  settled,
  snapshots,
} from "../support/e2e-compose";

const e2e = test.serial;
const timings: string[] = [];
const note = (text: string) => {
  timings.push(text);
  return text;
};
let ids: number[] = [];
/** The leader the first test crashed; the second recovers it. */
let crashed: number | null = null;

test.before(async () => {
  const t0 = Date.now();
  const up = await composeUp();
  ids = (await containers()).map((c) => c.id);
  note(`cluster: up -d ${up.upMs} ms, all healthy ${up.healthyMs} ms, leader ${up.leaderMs} ms`);
  note(`(before hook, with the teardown of leftovers: ${Date.now() - t0} ms)`);
});

test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await recentLogs());
});

test.after.always(async () => {
  const start = Date.now();
  await composeDown();
  note(`docker-compose down -v: ${Date.now() - start} ms`);
  console.log(`e2e timings:\n  ${timings.join("\n  ")}`);
});

e2e("the leader crashes under load: another takes over and writes resume", async (t) => {
  const { leader } = await settled(30_000);
  const writer = new Writer(ids, { workers: 4, prefix: "e2e/crash/", maxMs: 60_000 });
  try {
    await until("writes flow", 15_000, async () => writer.stats.ok >= 50);
    await opsScript("crash.sh", String(leader));
    const crashAt = Date.now(); // docker kill has returned: the process is gone
    crashed = leader;
    const next = await until("a new leader", 30_000, async () => {
      const states = await replicaStates(1_000);
      const l = states.find((s) => s.view?.role === "leader" && s.id !== leader);
      return l?.id ?? null;
    });
    const electedMs = Date.now() - crashAt;
    const resumed = await until("writes resume", 30_000, async () =>
      writer.firstOkStartedAfter(crashAt),
    );
    t.log(note(`leader paxlog-${leader} crashed: paxlog-${next} leads after ${electedMs} ms`));
    t.log(note(`writes resumed ${resumed - crashAt} ms after the crash`));
    t.true(resumed - crashAt < 15_000, "writes resume within 15 s");
    const before = writer.stats.ok;
    await until("more writes", 15_000, async () => writer.stats.ok >= before + 50);
  } finally {
    const stats = await writer.stop();
    t.log(`writer: ${stats.ok} ok, ${stats.failed} failed (requests to the crashed replica)`);
  }
});

e2e("the crashed leader comes back empty, catches up, and holds the same state", async (t) => {
  if (crashed === null) return t.fail("the crash test did not crash a leader");
  const id = crashed;
  const start = Date.now();
  const out = await opsScript("recover.sh", String(id)); // waits until it left recovery
  const recoveredMs = Date.now() - start;
  t.log(out.trim());
  const { leader } = await settled(30_000);
  const target = (await call(leader, "GET", "/v1/cluster")).body.chosenIndex as number;
  await caughtUp(id, target, 30_000);
  t.log(
    note(
      `paxlog-${id}: recovered in ${recoveredMs} ms, applied ${target} at ${Date.now() - start} ms`,
    ),
  );
  const snaps = await snapshots(leader);
  t.true(snaps.every((s) => s.status === 200));
  t.true(snaps[0]!.items > 50, "the crash test's writes are there");
  t.deepEqual(
    snaps.map((s) => s.digest),
    snaps.map(() => snaps[0]!.digest),
    "every replica holds the same state",
  );
});

e2e("a paused follower: the others serve, and it catches up once resumed", async (t) => {
  const { leader } = await settled(30_000);
  const follower = ids.find((id) => id !== leader)!;
  await opsScript("pause.sh", String(follower));
  const pausedAt = Date.now();
  try {
    const others = ids.filter((id) => id !== follower);
    for (let i = 0; i < 20; i++) {
      const a = await call(others[i % others.length]!, "PUT", kvPath(`e2e/pause/${i}`), {
        body: { value: String(i) },
      });
      t.is(a.status, 200);
    }
    const frozen = (await containers()).find((c) => c.id === follower)!;
    t.is(frozen.state, "paused");
    // long enough for its etcd lease (2 s) to expire
    await new Promise((r) => setTimeout(r, Math.max(0, 3_000 - (Date.now() - pausedAt))));
  } finally {
    await opsScript("resume.sh", String(follower));
  }
  const resumedAt = Date.now();
  const target = (await call(leader, "PUT", kvPath("e2e/pause/after"), { body: { value: "x" } }))
    .body.index as number;
  await caughtUp(follower, target, 30_000);
  t.log(
    note(
      `paused follower paxlog-${follower} applied ${target} ${Date.now() - resumedAt} ms after resume`,
    ),
  );
  const read = await call(follower, "GET", kvPath("e2e/pause/19"));
  t.is(read.status, 200, "it serves linearizable reads again");
  t.is(read.body.value, "19");
  const snaps = await snapshots(leader);
  t.deepEqual(
    snaps.map((s) => s.digest),
    snaps.map(() => snaps[0]!.digest),
  );
});

e2e(
  "a partitioned minority of followers refuses linearizable requests; the majority serves",
  async (t) => {
    const { leader } = await settled(30_000);
    const followers = ids.filter((id) => id !== leader);
    const minority = followers.slice(0, Math.floor((ids.length - 1) / 2));
    const majority = ids.filter((id) => !minority.includes(id));
    await opsScript("partition.sh", ...minority.map(String));
    const cutAt = Date.now();
    try {
      // the majority serves writes and linearizable reads, through any of its replicas
      for (let i = 0; i < 10; i++) {
        const w = await call(majority[i % majority.length]!, "PUT", kvPath(`e2e/part/${i}`), {
          body: { value: `v${i}` },
        });
        t.is(w.status, 200, `write ${i} through paxlog-${majority[i % majority.length]}`);
        const r = await call(majority[(i + 1) % majority.length]!, "GET", kvPath(`e2e/part/${i}`));
        t.is(r.status, 200);
        t.is(r.body.value, `v${i}`);
      }
      t.log(note(`majority ${majority} served 10 writes + 10 reads in ${Date.now() - cutAt} ms`));
      // the minority, asked from inside its containers, refuses (503 after its request timeout)
      const refusals = await Promise.all(
        minority.flatMap((id) => [
          call(id, "GET", kvPath("e2e/part/0"), { timeoutMs: 15_000 }),
          call(id, "PUT", kvPath("e2e/part/minority"), {
            body: { value: "no" },
            timeoutMs: 15_000,
          }),
        ]),
      );
      t.deepEqual(
        refusals.map((a) => a.status),
        refusals.map(() => 503),
        "linearizable reads and writes on the minority answer 503",
      );
      t.true(refusals.every((a) => a.via === "exec"));
      // its local state still answers sequential reads
      const local = await call(
        minority[0]!,
        "GET",
        `${kvPath("e2e/part/0")}?consistency=sequential`,
      );
      t.not(local.status, 503);
    } finally {
      await opsScript("heal.sh");
    }
    const healAt = Date.now();
    const target = (await call(leader, "PUT", kvPath("e2e/part/after"), { body: { value: "x" } }))
      .body.index as number;
    await Promise.all(minority.map((id) => caughtUp(id, target, 30_000)));
    t.log(
      note(`healed minority ${minority} applied ${target} ${Date.now() - healAt} ms after heal`),
    );
    await settled(30_000);
    const snaps = await snapshots(leader);
    t.deepEqual(
      snaps.map((s) => s.digest),
      snaps.map(() => snaps[0]!.digest),
    );
    // A 503 leaves the outcome open for the client; say what became of it.
    const refused = await call(minority[0]!, "GET", kvPath("e2e/part/minority"));
    t.log(
      `the write the minority refused: ${refused.status === 404 ? "never applied" : "applied later"}`,
    );
  },
);
