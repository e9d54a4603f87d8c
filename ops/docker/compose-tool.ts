/**
 * The Node.js half of the ops/docker scripts (they run it as
 * `node dist/ops/docker/compose-tool.js COMMAND`):
 *
 *   status                      every replica's view, as a table (--json: raw)
 *   wait-healthy [SECONDS]      until every replica container answers /healthz
 *   wait-recovered ID [SECONDS] until replica ID has left recovery and caught up
 *   compare                     one write, then every replica's keys and digest
 */
import {
  call,
  containers,
  formatStates,
  replicaStates,
  snapshotOf,
  until,
} from "./compose-cluster";

const seconds = (raw: string | undefined, fallback: number): number => {
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a number of seconds: ${raw}`);
  return n * 1000;
};

async function status(json: boolean): Promise<number> {
  const states = await replicaStates();
  if (states.length === 0) {
    console.log("no paxlog containers (docker-compose up -d)");
    return 1;
  }
  if (json) console.log(JSON.stringify(states, null, 2));
  else console.log(formatStates(states));
  return 0;
}

async function waitHealthy(timeoutMs: number): Promise<number> {
  const start = Date.now();
  const all = await containers();
  if (all.length === 0) throw new Error("no paxlog containers (docker-compose up -d)");
  await until(`replicas ${all.map((c) => c.id)} healthy`, timeoutMs, async () => {
    for (const c of all) {
      const a = await call(c.id, "GET", "/healthz", { timeoutMs: 1_000, via: "host" });
      if (a.status !== 200) return false;
    }
    return true;
  });
  console.log(`${all.length} replicas answer /healthz (${Date.now() - start} ms)`);
  return 0;
}

async function waitRecovered(id: number, timeoutMs: number): Promise<number> {
  const start = Date.now();
  await until(`paxlog-${id} answers`, timeoutMs, async () => {
    const a = await call(id, "GET", "/healthz", { timeoutMs: 1_000 });
    return a.status === 200;
  });
  const healthy = Date.now() - start;
  const view = await until(`paxlog-${id} leaves recovery`, timeoutMs, async () => {
    const a = await call(id, "GET", "/v1/cluster", { timeoutMs: 1_000 });
    return a.status === 200 && a.body.recovering === false ? a.body : null;
  });
  console.log(
    `paxlog-${id} serves after ${healthy} ms and left recovery after ${Date.now() - start} ms` +
      ` (applied index ${view.appliedIndex})`,
  );
  return 0;
}

async function compare(): Promise<number> {
  const all = (await containers()).filter((c) => c.state === "running" && c.connected);
  const write = await call(all[0]!.id, "PUT", "/v1/kv/compare-marker", {
    body: { value: new Date().toISOString() },
  });
  if (write.status !== 200) throw new Error(`marker write failed: ${JSON.stringify(write.body)}`);
  const index = write.body.index as number;
  const snaps = await Promise.all(all.map((c) => snapshotOf(c.id, index)));
  for (const s of snaps)
    console.log(`paxlog-${s.id}: ${s.items} keys, digest ${s.digest} at index ${s.index}`);
  const same = snaps.every((s) => s.status === 200 && s.digest === snaps[0]!.digest);
  console.log(same ? "identical state on every replica" : "REPLICAS DIFFER");
  return same ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "status":
      return status(rest.includes("--json"));
    case "wait-healthy":
      return waitHealthy(seconds(rest[0], 60));
    case "wait-recovered":
      return waitRecovered(Number(rest[0]), seconds(rest[1], 60));
    case "compare":
      return compare();
    default:
      console.error("usage: compose-tool status|wait-healthy [S]|wait-recovered ID [S]|compare");
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
