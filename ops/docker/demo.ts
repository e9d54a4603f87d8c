/**
 * The scripted demo on the compose cluster (run by ops/docker/demo.sh, which
 * brings the cluster up first): writes flow from a small bounded client load,
 * the leader is crashed and another takes over, the old leader recovers and
 * catches up, a minority of followers is cut off (it refuses linearizable
 * requests while the majority serves) and healed, and at the end every
 * replica's state is compared. Each fault goes through the ops/docker scripts.
 * Exits 0 when every replica holds identical state.
 */
import {
  call,
  formatStates,
  kvPath,
  leaderOf,
  type ReplicaState,
  replicaStates,
  run,
  script,
  snapshotOf,
  until,
  Writer,
} from "./compose-cluster";

const T0 = Date.now();
const stamp = () => `+${((Date.now() - T0) / 1000).toFixed(1)}s`.padStart(7);
const say = (text: string) => console.log(`[demo ${stamp()}] ${text}`);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const indent = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => `               ${l}`)
    .join("\n");

async function sh(name: string, ...args: string[]): Promise<void> {
  const out = await run("bash", [script(name), ...args], 90_000);
  console.log(indent(out));
}

async function showStatus(): Promise<ReplicaState[]> {
  const states = await replicaStates();
  console.log(indent(formatStates(states)));
  return states;
}

/** A leader that the answering replicas agree on, and nobody recovering. */
async function settled(timeoutMs: number, exclude: readonly number[] = []) {
  return until("one leader, nobody recovering", timeoutMs, async () => {
    const states = (await replicaStates()).filter((s) => !exclude.includes(s.id));
    const leader = leaderOf(states);
    const live = states.filter((s) => s.view);
    if (leader === null || live.some((s) => s.view!.recovering || s.view!.leader !== leader))
      return null;
    return { leader, states };
  });
}

/** Until replica `id` has applied at least `index`; returns how long that took. */
async function caughtUp(id: number, index: number, timeoutMs: number): Promise<number> {
  const start = Date.now();
  await until(`paxlog-${id} applies index ${index}`, timeoutMs, async () => {
    const a = await call(id, "GET", "/v1/cluster", { timeoutMs: 1_000 });
    return a.status === 200 && a.body.appliedIndex >= index;
  });
  return Date.now() - start;
}

async function main(): Promise<number> {
  const timings: [string, string][] = [];
  say("waiting for the cluster to settle (one leader, nobody recovering)");
  const first = await settled(60_000);
  const ids = first.states.map((s) => s.id);
  await showStatus();

  say(`writes start: 4 clients, each request to the next replica of ${ids.length}`);
  const writer = new Writer(ids, { workers: 4, prefix: "demo/", keys: 50, maxMs: 150_000 });
  let last = 0;
  const ticker = setInterval(() => {
    const s = writer.stats;
    say(`  writes: ${s.ok} ok (+${s.ok - last}/s), ${s.failed} failed, log index ${s.lastIndex}`);
    last = s.ok;
  }, 1_000);
  try {
    await until("writes flow", 10_000, async () => writer.stats.ok >= 20);
    await new Promise((r) => setTimeout(r, 2_000));

    // 1. crash the leader
    const old = (await settled(15_000)).leader;
    say(`crashing the leader, paxlog-${old}`);
    await sh("crash.sh", String(old));
    const crashAt = Date.now(); // docker kill has returned: the process is gone
    const next = await until("a new leader", 30_000, async () => {
      const leader = leaderOf(await replicaStates(1_000));
      return leader !== null && leader !== old ? leader : null;
    });
    const electedMs = Date.now() - crashAt;
    say(`paxlog-${next} leads, ${secs(electedMs)} after the crash`);
    const resumedAt = await until("writes resume", 30_000, async () =>
      writer.firstOkStartedAfter(crashAt),
    );
    say(`writes resumed ${secs(resumedAt - crashAt)} after the crash`);
    timings.push(["new leader after the crash", secs(electedMs)]);
    timings.push(["writes resumed after the crash", secs(resumedAt - crashAt)]);
    await new Promise((r) => setTimeout(r, 2_000));

    // 2. the old leader comes back empty and catches up
    say(`recovering paxlog-${old}: it starts empty and learns the log from the others`);
    const recoverAt = Date.now();
    await sh("recover.sh", String(old));
    const target = (await call(next, "GET", "/v1/cluster")).body.chosenIndex as number;
    await caughtUp(old, target, 30_000);
    const recoveredMs = Date.now() - recoverAt;
    say(`paxlog-${old} is back and has applied index ${target}: ${secs(recoveredMs)} after start`);
    timings.push([`paxlog-${old} recovered and caught up`, secs(recoveredMs)]);
    await showStatus();

    // 3. a minority of followers is cut off
    const { leader } = await settled(30_000);
    const minority = ids.filter((id) => id !== leader).slice(-Math.floor((ids.length - 1) / 2));
    say(`partitioning a minority of followers: ${minority.map((id) => `paxlog-${id}`).join(", ")}`);
    await sh("partition.sh", ...minority.map(String));
    const cutAt = Date.now();
    const probe = await call(minority[0]!, "GET", kvPath("demo/probe"), { timeoutMs: 15_000 });
    say(
      `linearizable read on cut-off paxlog-${minority[0]} (via docker exec): HTTP ${probe.status}` +
        ` ${probe.status === 503 ? "(refused, as it must)" : "(UNEXPECTED)"}`,
    );
    const local = await call(minority[0]!, "GET", `${kvPath("demo/probe")}?consistency=sequential`);
    say(`a sequential read there still answers from its local state: HTTP ${local.status}`);
    const servedMs = Date.now() - cutAt;
    const served = writer.okBetween(cutAt);
    say(`meanwhile the majority took ${served} writes in ${secs(servedMs)}`);
    await showStatus();
    say("healing the partition");
    const healAt = Date.now();
    await sh("heal.sh");
    const target2 = (await call(leader, "GET", "/v1/cluster")).body.chosenIndex as number;
    await Promise.all(minority.map((id) => caughtUp(id, target2, 30_000)));
    say(`the cut-off replicas applied index ${target2} ${secs(Date.now() - healAt)} after healing`);
    timings.push(["cut-off followers caught up after heal", secs(Date.now() - healAt)]);
    timings.push(["minority linearizable read", `HTTP ${probe.status}`]);

    // 4. stop writing and compare every replica
    clearInterval(ticker);
    const stats = await writer.stop();
    say(`writes stopped: ${stats.ok} ok, ${stats.failed} failed or refused`);
    await settled(30_000);
    const mark = await call(leader, "PUT", kvPath("demo/end"), { body: { value: "end" } });
    if (mark.status !== 200) throw new Error(`final write failed: HTTP ${mark.status}`);
    const snaps = await Promise.all(ids.map((id) => snapshotOf(id, mark.body.index)));
    for (const s of snaps)
      say(`  paxlog-${s.id}: ${s.items} keys, digest ${s.digest}, at index ${s.index}`);
    const same = snaps.every((s) => s.status === 200 && s.digest === snaps[0]!.digest);
    console.log("");
    for (const [what, value] of timings) console.log(`  ${what.padEnd(40)} ${value}`);
    console.log(`  ${"demo total".padEnd(40)} ${secs(Date.now() - T0)}`);
    console.log("");
    say(
      same && probe.status === 503
        ? `VERDICT: OK, all ${snaps.length} replicas hold identical state (${snaps[0]!.items} keys)`
        : `VERDICT: FAILED (${same ? "the minority did not refuse" : "replicas differ"})`,
    );
    return same && probe.status === 503 ? 0 : 1;
  } finally {
    clearInterval(ticker);
    await writer.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    say(`VERDICT: FAILED: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
