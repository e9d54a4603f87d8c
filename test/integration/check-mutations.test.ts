import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import anyTest, { type TestFn } from "ava";
import type { HistoryEntry } from "../../ops/check/history";
import type { ProcessCluster } from "../../ops/check/run/cluster";
import {
  judge,
  MUTATIONS_DIR,
  mutationArgs,
  mutationBanners,
  type ScenarioVerdict,
  ScriptedHistory,
  startScenarioCluster,
  waitForLeader,
  waitForView,
} from "../support/check-scenario";
import { runCli } from "../support/cli";
import { waitFor } from "../support/wait";

/**
 * The planted bugs of issue 8, on real processes with real etcd: each
 * scripted scenario runs once with a mutation preloaded into every replica
 * (test/mutations/, `node --require`) and once on the product build, and the
 * `paxlog check` checker must flag the first and pass the second.
 */

const test = anyTest.serial as TestFn<{ dir: string }>;

test.beforeEach((t) => {
  t.context.dir = fs.mkdtempSync(path.join(os.tmpdir(), "paxlog-check-mutation-"));
});
test.afterEach.always((t) => {
  // A failing scenario keeps its history, report and replica logs.
  if (t.passed) fs.rmSync(t.context.dir, { recursive: true, force: true });
  else t.log(`run directories kept under ${t.context.dir}`);
});

const url = (cluster: ProcessCluster, id: number) => cluster.replica(id).url;

function expectOk(e: HistoryEntry, what: string): number {
  if (e.result.status !== "ok") throw new Error(`${what}: no answer`);
  return (e.result as { index?: number }).index ?? 0;
}

const readValue = (e: HistoryEntry): string | null | undefined =>
  e.result.status === "ok" ? (e.result as { value: string | null }).value : undefined;

/** Waits until each replica in `ids` has applied `index`. */
function waitApplied(cluster: ProcessCluster, ids: readonly number[], index: number) {
  return waitFor(
    async () => {
      const views = await Promise.all(ids.map((id) => cluster.view(id)));
      return views.every((v) => v !== null && v.appliedIndex >= index);
    },
    { timeoutMs: 10_000, intervalMs: 50, message: `replicas ${ids.join(",")} at index ${index}` },
  );
}

interface StaleOutcome {
  readonly verdict: ScenarioVerdict;
  /** The linearizable read sent to the cut-off follower. */
  readonly isolatedRead: HistoryEntry;
}

/**
 * Cut one follower off from the other two replicas (it still reaches etcd),
 * write a new value through the leader, then read linearizably from the
 * follower: only a state that went through the log may answer.
 */
async function staleReadScenario(dir: string, nodeArgs: readonly string[]): Promise<StaleOutcome> {
  const cluster = await startScenarioCluster(dir, nodeArgs);
  const history = new ScriptedHistory(dir);
  try {
    const leader = await waitForLeader(cluster, [1, 2, 3], 15_000);
    const [follower, other] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    const put = (value: string) =>
      history.run("writer", [url(cluster, leader)], { kind: "put", key: "k", value }, 5_000);
    const firstIndex = expectOk(await put("old"), "put old");
    await waitApplied(cluster, [follower], firstIndex);
    cluster.mesh.partition([follower]);
    expectOk(await put("new"), "put new (leader and the other follower)");
    const isolatedRead = await history.run(
      "reader",
      [url(cluster, follower)],
      { kind: "get", key: "k", consistency: "linearizable" },
      3_000,
    );
    cluster.mesh.healAll();
    await waitFor(() => cluster.allServing(), {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: "every replica serving after the heal",
    });
    const finalRead = await history.run(
      "final",
      [url(cluster, leader), url(cluster, other)],
      { kind: "get", key: "k", consistency: "linearizable" },
      5_000,
    );
    return { verdict: judge(history, [finalRead]), isolatedRead };
  } finally {
    history.close();
    await cluster.stop();
  }
}

test("planted bug: followers answering linearizable reads locally is caught; the product is not flagged", async (t) => {
  t.timeout(90_000);
  const mutated = await staleReadScenario(
    path.join(t.context.dir, "mutated"),
    mutationArgs("stale-linearizable-reads"),
  );
  t.log(`mutated build: isolated read ${JSON.stringify(mutated.isolatedRead.result)}`);
  t.log(mutated.verdict.report);
  t.is(mutationBanners(path.join(t.context.dir, "mutated")).length, 3, "mutation loaded 3 times");
  t.is(
    readValue(mutated.isolatedRead),
    "old",
    "the cut-off follower answered from its stale state",
  );
  t.true(mutated.verdict.violation);
  t.is(mutated.verdict.linearizability, "violation");

  const product = await staleReadScenario(path.join(t.context.dir, "product"), []);
  t.log(`product build: isolated read ${JSON.stringify(product.isolatedRead.result)}`);
  t.log(product.verdict.report);
  t.deepEqual(mutationBanners(path.join(t.context.dir, "product")), []);
  t.not(readValue(product.isolatedRead), "old", "unknown (503) or the new value, never the old");
  t.false(product.verdict.violation);
  t.is(product.verdict.linearizability, "ok");
});

interface FenceOutcome {
  readonly verdict: ScenarioVerdict;
  /** Whether the restarted replica said it was recovering once it served. */
  readonly restartedRecovering: boolean;
  readonly finalRead: HistoryEntry;
}

/**
 * Leader L, followers A and B. B is cut off and misses a write that L and A
 * accept (acknowledged). A crashes and restarts empty, still cut off from L
 * (so it cannot learn the write again); once A serves, L crashes and B is
 * healed. A and B alone must not form a Phase 1 quorum: A forgot the write and
 * B never had it.
 */
async function recoveryFenceScenario(
  dir: string,
  nodeArgs: readonly string[],
): Promise<FenceOutcome> {
  const cluster = await startScenarioCluster(dir, nodeArgs);
  const history = new ScriptedHistory(dir);
  try {
    const leader = await waitForLeader(cluster, [1, 2, 3], 15_000);
    const [a, b] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    const put = (value: string) =>
      history.run("writer", [url(cluster, leader)], { kind: "put", key: "k", value }, 5_000);
    const firstIndex = expectOk(await put("old"), "put old");
    await waitApplied(cluster, [a, b], firstIndex);
    cluster.mesh.partition([b]);
    expectOk(await put("new"), "put new (accepted by the leader and A only)");
    await cluster.kill(a);
    cluster.mesh.link(a, leader).cutLink();
    cluster.mesh.link(leader, a).cutLink();
    cluster.restart(a);
    const restarted = await waitForView(cluster, a, 15_000);
    await cluster.kill(leader);
    cluster.mesh.healAll();
    const finalRead = await history.run(
      "final",
      [url(cluster, a), url(cluster, b)],
      { kind: "get", key: "k", consistency: "linearizable" },
      8_000,
    );
    return {
      verdict: judge(history, [finalRead]),
      restartedRecovering: restarted.recovering,
      finalRead,
    };
  } finally {
    history.close();
    await cluster.stop();
  }
}

test("planted bug: a restarted replica without the recovery fence loses an acked write; the product does not", async (t) => {
  t.timeout(90_000);
  const mutated = await recoveryFenceScenario(
    path.join(t.context.dir, "mutated"),
    mutationArgs("no-recovery-fence"),
  );
  t.log(`mutated build: final read ${JSON.stringify(mutated.finalRead.result)}`);
  t.log(mutated.verdict.report);
  t.is(mutationBanners(path.join(t.context.dir, "mutated")).length, 4, "3 starts + 1 restart");
  t.false(mutated.restartedRecovering, "the mutation starts a restarted replica unfenced");
  t.is(readValue(mutated.finalRead), "old", "the acknowledged write of 'new' is gone");
  t.true(mutated.verdict.violation);
  t.is(mutated.verdict.lostWrites.length, 1);
  t.is(mutated.verdict.linearizability, "violation");

  const product = await recoveryFenceScenario(path.join(t.context.dir, "product"), []);
  t.log(`product build: final read ${JSON.stringify(product.finalRead.result)}`);
  t.log(product.verdict.report);
  t.deepEqual(mutationBanners(path.join(t.context.dir, "product")), []);
  t.true(product.restartedRecovering, "the restarted replica is fenced and recovering");
  // By design one down and one recovering of three stops the log: unknown, never "old".
  t.not(readValue(product.finalRead), "old");
  t.false(product.verdict.violation);
  t.is(product.verdict.lostWrites.length, 0);
});

test("paxlog check --replica-node-args preloads a mutation into every replica it starts", async (t) => {
  t.timeout(60_000);
  const out = path.join(t.context.dir, "cli");
  const preload = path.join(MUTATIONS_DIR, "no-recovery-fence.js");
  const run = await runCli(
    [
      "check",
      "--nodes",
      "3",
      "--ops",
      "30",
      "--faults",
      "none",
      "--out",
      out,
      `--replica-node-args=--require ${path.relative(process.cwd(), preload)}`,
    ],
    { timeoutMs: 55_000 },
  );
  t.log(run.stdout.slice(-1500));
  // Without faults this mutation never acts: the run is clean.
  t.is(run.code, 0);
  t.is(mutationBanners(out).length, 3);
});
