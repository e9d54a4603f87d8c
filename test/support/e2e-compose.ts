/**
 * The compose cluster for the end-to-end tests (test/e2e/): up from the
 * images `npm run docker:build` made, healthy with one leader, and down again.
 * Only `npm run test:e2e` runs them (ava.e2e.config.mjs): the default pass
 * leaves test/e2e out, as it may run where no Docker is.
 */
import {
  call,
  compose,
  containers,
  docker,
  kvPath,
  leaderOf,
  type ReplicaState,
  replicaStates,
  run,
  type Snapshot,
  script,
  snapshotOf,
  until,
} from "../../ops/docker/compose-cluster";

export const IMAGES = ["paxlog-replica:latest", "paxlog-etcd:latest"];

/**
 * A fresh cluster: whatever an earlier run left is removed, then
 * `docker-compose up -d`; resolves once every replica answers /healthz and
 * one leader is agreed. Returns how long that took after `up` began.
 */
export async function composeUp(): Promise<{ upMs: number; healthyMs: number; leaderMs: number }> {
  for (const image of IMAGES) {
    await docker(["image", "inspect", image]).catch(() => {
      throw new Error(`image ${image} is missing: run npm run docker:build first`);
    });
  }
  await compose(["down", "-v", "--remove-orphans"]);
  const start = Date.now();
  await compose(["up", "-d"]);
  const upMs = Date.now() - start;
  const ids = (await containers()).map((c) => c.id);
  await until("every replica answers /healthz", 60_000, async () => {
    for (const id of ids) {
      const a = await call(id, "GET", "/healthz", { timeoutMs: 1_000, via: "host" });
      if (a.status !== 200) return false;
    }
    return true;
  });
  const healthyMs = Date.now() - start;
  await settled(30_000);
  return { upMs, healthyMs, leaderMs: Date.now() - start };
}

export async function composeDown(): Promise<void> {
  await compose(["down", "-v", "--remove-orphans"]);
}

/** Runs an ops/docker script; resolves with what it printed. */
export const opsScript = (name: string, ...args: string[]): Promise<string> =>
  run("bash", [script(name), ...args], 90_000);

/** Until the answering replicas (minus `exclude`) agree on one leader and none is recovering. */
export async function settled(
  timeoutMs: number,
  exclude: readonly number[] = [],
): Promise<{ leader: number; states: ReplicaState[] }> {
  return until("one agreed leader, nobody recovering", timeoutMs, async () => {
    const states = (await replicaStates(1_000)).filter((s) => !exclude.includes(s.id));
    const leader = leaderOf(states);
    if (leader === null) return null;
    const live = states.filter((s) => s.view);
    if (live.some((s) => s.view!.recovering || s.view!.leader !== leader)) return null;
    return { leader, states };
  });
}

/** Until replica `id` has applied `index`; resolves with how long it took. */
export async function caughtUp(id: number, index: number, timeoutMs: number): Promise<number> {
  const start = Date.now();
  await until(`paxlog-${id} applies index ${index}`, timeoutMs, async () => {
    const a = await call(id, "GET", "/v1/cluster", { timeoutMs: 1_000 });
    return a.status === 200 && a.body.appliedIndex >= index;
  });
  return Date.now() - start;
}

/**
 * One write through `via`, then every replica's whole state read
 * sequentially at or after that write's index: their digests should be equal.
 */
export async function snapshots(via: number): Promise<Snapshot[]> {
  const mark = await call(via, "PUT", kvPath("e2e/mark"), { body: { value: String(Date.now()) } });
  if (mark.status !== 200) throw new Error(`marker write failed: HTTP ${mark.status}`);
  const ids = (await containers()).map((c) => c.id);
  return Promise.all(ids.map((id) => snapshotOf(id, mark.body.index as number, 20_000)));
}

/** The last lines each replica container logged, for a failing test. */
export async function recentLogs(lines = 15): Promise<string> {
  const out: string[] = [];
  for (const c of await containers()) {
    const text = await run(
      "sh",
      ["-c", `docker logs --tail ${lines} ${c.name} 2>&1`],
      10_000,
    ).catch((e: Error) => e.message);
    out.push(`--- ${c.name} (${c.state})`, text.trimEnd());
  }
  return out.join("\n");
}
