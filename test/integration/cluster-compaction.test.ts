/**
 * Issue 5 on real processes: memory bounded by state plus a log tail,
 * disposal only below every live member's learned index, explicit refusal of
 * disposed instances, and catch-up by snapshot while clients keep writing.
 * Snapshots every 25 entries, so compaction happens many times per test.
 */
import anyTest, { type TestFn } from "ava";
import { type Message, NOOP, nodeId } from "../../consensus";
import { PeerTransport } from "../../transport/grpc/peer-transport";
import { createLogger } from "../../transport/log";
import { getJson, request, TestCluster } from "../support/cluster";
import { waitFor } from "../support/wait";

const test = anyTest.serial as TestFn<{ cluster: TestCluster }>;
const SNAPSHOT_EVERY = 25;
const RETAIN_TAIL = 5;

test.before(async (t) => {
  t.context.cluster = await TestCluster.start({
    nodes: 3,
    snapshotEvery: SNAPSHOT_EVERY,
    retainTail: RETAIN_TAIL,
    leaseTtlSeconds: 2,
  });
});
test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: /v1/cluster JSON, checked field by field
type View = any;
const view = async (url: string): Promise<View> => (await getJson(`${url}/v1/cluster`)).body;
const learnedOf = (v: View, id: number): number | null =>
  v.members.find((m: { id: number }) => m.id === id)?.learnedIndex ?? null;

/**
 * Closed-loop writers, each owning its keys (so the last acknowledged value of
 * a key is well defined), spread over `urls()`, until stop().
 */
class Writers {
  readonly acked = new Map<string, string>();
  ackedCount = 0;
  refused = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(count: number, urls: () => string[], valueBytes = 0) {
    const padding = "p".repeat(valueBytes);
    this.loops = Array.from({ length: count }, async (_, w) => {
      for (let n = 0; this.running && n < 100_000; n++) {
        const targets = urls();
        const url = targets[n % targets.length]!;
        const key = `w${w}-${n % 11}`;
        const value = `${w}.${n}${padding}`;
        const answer = await request("PUT", `${url}/v1/kv/${key}`, { value }).catch(() => null);
        if (answer?.status === 200) {
          this.acked.set(key, value);
          this.ackedCount++;
        } else this.refused++;
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** Every replica's digest once all have applied the same index. */
async function digestsOnceEqual(c: TestCluster): Promise<{ index: number; digests: string[] }> {
  return waitFor(
    async () => {
      const answers = await Promise.all(
        c.replicas.map(async (r) => (await getJson(`${r.url}/v1/admin/digest`)).body),
      );
      const index = answers[0].index;
      if (!answers.every((a) => a.index === index)) return null;
      return { index, digests: answers.map((a) => a.digest as string) };
    },
    { timeoutMs: 15_000, intervalMs: 100, message: "every replica applies the same index" },
  );
}

async function assertAckedReadable(
  t: { is: (a: unknown, b: unknown, m?: string) => void },
  c: TestCluster,
  acked: ReadonlyMap<string, string>,
) {
  for (const r of c.replicas) {
    for (const [key, value] of acked) {
      const got = await getJson(`${r.url}/v1/kv/${key}`);
      t.is(got.body.value, value, `replica ${r.id}, ${key}`);
    }
  }
}

test("under sustained writes the log tail and consensus instances stay bounded", async (t) => {
  const c = t.context.cluster;
  const writers = new Writers(16, () => c.replicas.map((r) => r.url));
  let maxRetained = 0;
  let maxInstances = 0;
  let samples = 0;
  const firstSnapshot = (await view(c.replica(1).url)).snapshotIndex;
  let lastView: View = null;
  try {
    await waitFor(
      async () => {
        for (const r of c.replicas) {
          const v = await view(r.url);
          maxRetained = Math.max(maxRetained, v.retainedEntries);
          maxInstances = Math.max(maxInstances, v.acceptorInstances);
          lastView = v;
        }
        samples++;
        return lastView.appliedIndex > 2_000;
      },
      { timeoutMs: 60_000, intervalMs: 100, message: "2,000 entries written" },
    );
  } finally {
    await writers.stop();
  }
  t.log(
    `${lastView.appliedIndex} entries, ${samples} samples: at most ${maxRetained} retained entries and ${maxInstances} acceptor instances (snapshot every ${SNAPSHOT_EVERY}, tail ${RETAIN_TAIL})`,
  );
  t.true(lastView.snapshotIndex - firstSnapshot >= 2_000 - SNAPSHOT_EVERY * 4, "snapshots kept up");
  // A snapshot interval, the tail, and what is in flight (the pipeline window
  // and entries learned but not yet applied): nowhere near the 2,000 written.
  const bound = SNAPSHOT_EVERY + RETAIN_TAIL + 200;
  t.true(maxRetained <= bound, `retained ${maxRetained} > ${bound}`);
  t.true(maxInstances <= bound, `acceptor instances ${maxInstances} > ${bound}`);
  t.is(writers.refused, 0);
  const { digests } = await digestsOnceEqual(c);
  t.is(new Set(digests).size, 1, "every replica has the same state");
});

test("a paused follower holds disposal back while it is a live member; once its lease ends the others compact past it, and on resuming it catches up by snapshot while writes go on", async (t) => {
  const c = t.context.cluster;
  const leader = await c.leader();
  const leaderUrl = c.replica(leader).url;
  const follower = c.replicas.find((r) => r.id !== leader)!;
  const others = c.replicas.filter((r) => r.id !== follower.id).map((r) => r.url);
  const probe = await request("PUT", `${leaderUrl}/v1/kv/before-pause`, { value: "1" });
  await waitFor(
    async () => (learnedOf(await view(leaderUrl), follower.id) ?? 0) >= probe.body.index,
    {
      timeoutMs: 5_000,
      message: "the leader hears the follower's learned index",
    },
  );
  c.pause(follower.id);
  // Big values, so that what is sent to the paused follower overflows the
  // socket buffers and gRPC flow-control window: its link drops messages (as
  // for a partition) and the gap can only be filled by a snapshot.
  const writers = new Writers(8, () => others, 4_096);
  try {
    // While etcd still lists it as up, the watermark stays at its learned index.
    const { frozen } = await waitFor(
      async () => {
        const learned = learnedOf(await view(leaderUrl), follower.id);
        return learned === null ? null : { frozen: learned };
      },
      { timeoutMs: 5_000, message: "the leader reports the follower's learned index" },
    );
    let checkedWhileLive = 0;
    const down = await waitFor(
      async () => {
        const v = await view(leaderUrl);
        const member = v.members.find((m: { id: number }) => m.id === follower.id);
        if (member.status === "up") {
          t.true(
            v.disposeBelow <= member.learnedIndex + 1,
            `disposeBelow ${v.disposeBelow} passed live member ${follower.id}'s learned index ${member.learnedIndex}`,
          );
          checkedWhileLive++;
          return null;
        }
        return v;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: "the paused follower's lease ends" },
    );
    t.true(checkedWhileLive > 0, "the watermark was observed while the follower was live");
    t.log(
      `follower ${follower.id} paused at learned ${frozen}; ${checkedWhileLive} samples while live, then down at leader index ${down.chosenIndex}`,
    );
    const compacted = await waitFor(
      async () => {
        const v = await view(leaderUrl);
        return v.disposeBelow > frozen + 1 && v.logStartsAfter > frozen + 1_500 ? v : null;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: "the others dispose and compact past it" },
    );
    t.log(
      `leader disposed below ${compacted.disposeBelow}, log starts after ${compacted.logStartsAfter}`,
    );
    const resumed = Date.now();
    c.resume(follower.id);
    await waitFor(
      async () => {
        const f = await view(follower.url);
        return !f.recovering && f.appliedIndex >= compacted.chosenIndex;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: "the resumed follower catches up" },
    );
    t.log(`resumed follower caught up past the compaction in ${Date.now() - resumed} ms`);
    await waitFor(() => follower.log.some((line) => line.includes("installed a snapshot")), {
      timeoutMs: 5_000,
      message: "its log says it installed a snapshot",
    });
  } finally {
    c.resume(follower.id);
    await writers.stop();
  }
  const { digests } = await digestsOnceEqual(c);
  t.is(new Set(digests).size, 1, "its state equals the others'");
  await assertAckedReadable(t, c, writers.acked);
});

test("a replica restarted empty while clients keep writing installs a snapshot, replays the tail, leaves recovery, and ends with the others' digest", async (t) => {
  const c = t.context.cluster;
  const leader = await c.leader();
  const victim = c.replicas.find((r) => r.id !== leader)!;
  const up = () => c.replicas.filter((r) => r.process !== null).map((r) => r.url);
  const writers = new Writers(8, up);
  try {
    await waitFor(async () => writers.ackedCount >= 40, {
      timeoutMs: 10_000,
      message: "writes flow",
    });
    await c.kill(victim.id);
    const before = (await view(c.replica(leader).url)).chosenIndex;
    await waitFor(async () => (await view(c.replica(leader).url)).logStartsAfter > before, {
      timeoutMs: 15_000,
      intervalMs: 50,
      message: "the others compact past the victim",
    });
    const restarted = Date.now();
    await c.restart(victim.id, 30_000); // resolves once it has left recovery
    t.log(
      `replica ${victim.id} back, caught up and out of recovery in ${Date.now() - restarted} ms`,
    );
    const acked = writers.ackedCount;
    await waitFor(async () => writers.ackedCount > acked + 20, {
      timeoutMs: 10_000,
      message: "writes go on after it rejoined",
    });
  } finally {
    await writers.stop();
  }
  await waitFor(() => victim.log.some((line) => line.includes("installed a snapshot")), {
    timeoutMs: 5_000,
    message: "its log says it installed a snapshot",
  });
  const { digests } = await digestsOnceEqual(c);
  t.is(new Set(digests).size, 1, "the restarted replica's state equals the others'");
  await assertAckedReadable(t, c, writers.acked);
});

test("a request that would re-invoke a disposed instance is refused with Disposed and logged", async (t) => {
  const c = t.context.cluster;
  const leader = await c.leader();
  const target = c.replica(leader);
  const impostor = c.replicas.find((r) => r.id !== leader)!;
  // The impostor's real replica goes away; a bare transport takes its address and id.
  await c.kill(impostor.id);
  for (let i = 0; i < SNAPSHOT_EVERY * 3; i++) {
    t.is(
      (await request("PUT", `${target.url}/v1/kv/disposal-${i % 5}`, { value: `${i}` })).status,
      200,
    );
  }
  const v = await waitFor(
    async () => {
      const w = await view(target.url);
      return w.disposeBelow > 2 && w.logStartsAfter > 1 ? w : null;
    },
    { timeoutMs: 10_000, message: "instance 1 is disposed" },
  );
  const received: Message[] = [];
  const addresses = new Map(c.replicas.map((r) => [nodeId(r.id), r.grpcAddress]));
  const transport = new PeerTransport(
    nodeId(impostor.id),
    addresses,
    {
      onMessages: (messages) => received.push(...messages),
      onForward: async () => ({ outcome: "notLeader", notLeader: 0 }),
      onFetchSnapshot: () => null,
    },
    createLogger({ level: "silent" }),
  );
  await transport.start(impostor.grpcAddress);
  t.teardown(() => transport.close());
  const from = nodeId(impostor.id);
  const to = nodeId(leader);
  const ballot = { round: v.ballot.round, nodeId: impostor.id };
  // Resent while the stream connects: the first messages may be dropped.
  const refusal = await waitFor(
    () => {
      transport.send([
        { type: "accept", from, to, ballot, index: 1, value: NOOP, horizon: 0, chosenIndex: 0 },
        { type: "prepare", from, to, ballot, fromIndex: 1 },
      ] as Message[]);
      return received.find((m) => m.type === "disposed") ?? null;
    },
    { timeoutMs: 10_000, intervalMs: 100, message: "a Disposed refusal" },
  );
  t.like(refusal, { type: "disposed", from: to, to: from });
  t.true((refusal as { disposeBelow: number }).disposeBelow > 1);
  t.false(received.some((m) => m.type === "promise" || m.type === "accepted"));
  await waitFor(
    () => target.log.some((line) => line.includes("refused a request for a disposed instance")),
    { timeoutMs: 5_000, message: "the refusal is logged" },
  );
  await transport.close();
  await c.restart(impostor.id, 30_000);
});
