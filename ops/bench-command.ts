import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  type Driver,
  ETCD_CLIENTS,
  type EtcdClient,
  EtcdDriver,
  EtcdGatewayDriver,
  EtcdGrpcDriver,
  HTTP_CLIENTS,
  type HttpClient,
  OPS,
  type Op,
  PaxlogDriver,
} from "./bench/drivers";
import {
  etcdLeaderIndex,
  type Launched,
  leaderLast,
  startEtcdCluster,
  startPaxlogCluster,
} from "./bench/launch";
import { markdown, svgPlot, textTable } from "./bench/report";
import {
  parseMix,
  preload,
  runStep,
  runWindow,
  type StepOp,
  type StepResult,
  singleOp,
  summarize,
  type Window,
} from "./bench/step";
import { positiveInt, UsageError } from "./usage-error";

/** Each etcd client: how the settings line names it, and its driver over the members' endpoints. */
const ETCD_CLIENT_KINDS: Record<
  EtcdClient,
  { readonly name: string; readonly driver: (endpoints: readonly string[]) => Driver }
> = {
  grpc: {
    name: "its gRPC API over node:http2 (one session per member)",
    driver: (e) => new EtcdGrpcDriver(e),
  },
  gateway: {
    name: "its JSON gateway (the same minimal HTTP/1.1 client)",
    driver: (e) => new EtcdGatewayDriver(e),
  },
  etcd3: { name: "etcd3 gRPC", driver: (e) => new EtcdDriver(e) },
};

/** How the settings line names each paxlog client. */
const HTTP_CLIENT_NAMES: Record<HttpClient, string> = {
  pipelined: "a minimal HTTP/1.1 client, one pipelined connection per replica",
  raw: "a minimal keep-alive HTTP/1.1 client, one connection per client",
  pool: "undici Pool",
  agent: "keep-alive http.request",
};

export const BENCH_HELP = `paxlog bench — closed-loop benchmark, optionally against etcd

Starts a paxlog cluster on loopback (or targets --endpoints) and, with
--vs etcd, an etcd cluster of the same size (Debian's etcd binary, data in
/dev/shm), then runs the same workload against both, alternating window by
window within each step.
Clients are closed loops spread round-robin over every replica/member, the
followers first and the leader last (so a one-client step meets a follower in
both systems; --endpoints keeps the order given); keys are drawn uniformly
from --keys keys, all written once before the first step.

  --replicas LIST     cluster sizes to start, e.g. 3 or 3,5 (default 3)
  --endpoints URLS    target a running paxlog cluster instead (REST URLs, comma-separated)
  --vs etcd           also benchmark an etcd cluster of the same size (see --etcd-client)
  --clients LIST      closed-loop client counts (default 1,64)
  --ops LIST          put | get (linearizable) | sget (sequential; etcd: serializable)
                      (default put,get,sget)
  --mix SPEC          also run a mixed step, e.g. put=50,get=50
  --keys N            key space (default 1000)
  --value-bytes N     value size (default 100)
  --duration T        measured time per step: 10s, 500ms, 1m (default 10s)
  --rounds N          split each step into N windows, alternating the systems window by
                      window (who goes first alternates too), so that drift in the
                      machine's speed hits both alike (default 5 with --vs etcd, else 1)
  --warmup T          discarded time before each window (default 10% of a window, ≤ 1s)
  --prime T           once per started cluster, before its first step: 64 clients of
                      mixed put/get/sget load, discarded (default 15s; 0 skips). Both
                      systems get it. A fresh Node process runs puts at about half
                      speed for its first ~10 s of load (JIT tiers, heap growth).
  --http pipelined|raw|pool|agent
                      paxlog client: a minimal keep-alive HTTP/1.1 client with one
                      connection per replica, shared by the clients on it, their
                      requests pipelined (default: the counterpart of etcd's one
                      HTTP/2 session per member); the same client with one
                      connection per client; undici's connection pool; or
                      keep-alive http.request
  --etcd-client grpc|gateway|etcd3
                      etcd client: its gRPC API over node:http2, requests framed by
                      hand, one multiplexed session per member (default: etcd's
                      fastest path here, 20-38% more puts/s than the gateway); its
                      JSON gateway through the same minimal HTTP/1.1 client as
                      paxlog's; or its gRPC API through the etcd3 client, whose
                      grpc-js calls cost the generator ~100 µs of CPU each, CPU that
                      etcd's members then lack on a 2-vCPU machine
  --out DIR           results go to DIR/bench-<timestamp>/ (default bench-results)
  -h, --help          this text

Prints a progress line per step and a table at the end (ops/s, p50/p99/p99.9
latency in ms, errors, paxlog/etcd ratios of throughput, p50 and p99, the
lowest and highest throughput and p50 ratio of the windows run back to back
and in how many of them paxlog's median was no higher than etcd's, the load
generator's own CPU as % of one core, the servers' CPU: all replicas or
members together, % of one core and µs per operation, and the whole
machine's idle CPU, % of one core),
saved as results.json, results.md and plot.svg.
Set PAXLOG_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") to
pass more node flags to the replicas (after those of ops/replica-node-flags.ts).`;

function list(raw: string, flag: string): number[] {
  return raw.split(",").map((x) => positiveInt(x.trim(), flag));
}

export function parseDuration(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${flag} must look like 10s, 500ms or 1m, got "${raw}"`);
  const n = Number(m[1]);
  return Math.round(m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000);
}

function machine(): string {
  const cpus = os.cpus();
  const etcd = spawnSync(process.env["PAXLOG_ETCD_BIN"] ?? "etcd", ["--version"], {
    encoding: "utf8",
  });
  const etcdVersion = /etcd Version: (\S+)/.exec(etcd.stdout ?? "")?.[1] ?? "?";
  return `${os.hostname()}: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, etcd ${etcdVersion}`;
}

/** What primes a fresh cluster: every operation the steps may run, in equal parts. */
const PRIMING_LOAD = parseMix("put=1,get=1,sget=1", OPS);

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      replicas: { type: "string", default: "3" },
      endpoints: { type: "string" },
      vs: { type: "string" },
      clients: { type: "string", default: "1,64" },
      ops: { type: "string", default: "put,get,sget" },
      mix: { type: "string" },
      keys: { type: "string", default: "1000" },
      "value-bytes": { type: "string", default: "100" },
      duration: { type: "string", default: "10s" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      prime: { type: "string", default: "15s" },
      http: { type: "string", default: "pipelined" },
      "etcd-client": { type: "string", default: "grpc" },
      out: { type: "string", default: "bench-results" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  if (values.vs !== undefined && values.vs !== "etcd")
    throw new UsageError(`--vs supports only "etcd", got "${values.vs}"`);
  const httpClient = values.http as HttpClient;
  if (!HTTP_CLIENTS.includes(httpClient))
    throw new UsageError(`--http must be ${HTTP_CLIENTS.join(" or ")}, got "${values.http}"`);
  const etcdClient = values["etcd-client"] as EtcdClient;
  if (!ETCD_CLIENTS.includes(etcdClient))
    throw new UsageError(
      `--etcd-client must be ${ETCD_CLIENTS.join(" or ")}, got "${values["etcd-client"]}"`,
    );
  const endpoints = values.endpoints
    ?.split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  const sizes = endpoints ? [endpoints.length] : list(values.replicas, "--replicas");
  if (sizes.some((n) => n > 9)) throw new UsageError("--replicas must be 1..9");
  const clientCounts = list(values.clients, "--clients");
  const steps: StepOp[] = values.ops
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      if (!OPS.includes(o as Op)) throw new UsageError(`--ops: unknown op "${o}" (put, get, sget)`);
      return singleOp(o as Op);
    });
  if (values.mix) {
    try {
      steps.push(parseMix(values.mix, OPS));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (steps.length === 0) throw new UsageError("no operations to run");
  const keys = positiveInt(values.keys, "--keys");
  const value = "v".repeat(positiveInt(values["value-bytes"], "--value-bytes"));
  const durationMs = parseDuration(values.duration, "--duration");
  const primeMs = parseDuration(values.prime, "--prime");
  const withEtcd = values.vs === "etcd";
  const rounds =
    values.rounds === undefined ? (withEtcd ? 5 : 1) : positiveInt(values.rounds, "--rounds");
  const windowMs = Math.round(durationMs / rounds);
  if (windowMs < 100)
    throw new UsageError(`--duration / --rounds must leave at least 100ms a window`);
  const warmupMs =
    values.warmup !== undefined
      ? parseDuration(values.warmup, "--warmup")
      : Math.min(1_000, Math.round(windowMs / 10));

  const date = new Date();
  const outDir = path.resolve(
    values.out,
    `bench-${date.toISOString().replace(/[:.]/g, "-").replace(/Z$/, "")}`,
  );
  const logDir = path.join(outDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const settings = `replicas ${sizes.join(",")}${endpoints ? " (--endpoints)" : ""}, clients ${clientCounts.join(",")}, ops ${steps.map((s) => s.name).join(",")}, ${keys} keys, ${value.length}-byte values, ${durationMs / 1000}s per step${rounds > 1 ? ` in ${rounds} windows${withEtcd ? " alternating between the systems" : ""}` : ""} (+${warmupMs / 1000}s warm-up${rounds > 1 ? " each" : ""}; each cluster primed with ${primeMs / 1000}s of mixed load), paxlog via ${HTTP_CLIENT_NAMES[httpClient]}${withEtcd ? `, etcd via ${ETCD_CLIENT_KINDS[etcdClient].name}` : ""}`;
  const machineLine = machine();
  console.log(`[bench] ${machineLine}`);
  console.log(`[bench] ${settings}`);
  console.log(`[bench] results: ${outDir}`);

  const launched: Launched[] = [];
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    console.error("\n[bench] interrupted; stopping clusters");
    void Promise.all(launched.map((l) => l.stop())).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const rows: StepResult[] = [];
  const total = sizes.length * steps.length * clientCounts.length * (withEtcd ? 2 : 1);
  let done = 0;
  const tty = process.stderr.isTTY;
  try {
    for (const n of sizes) {
      const drivers: Driver[] = [];
      // Whose CPU each driver's steps report: the servers we started (none for --endpoints).
      const serverPids = new Map<Driver, readonly number[]>();
      console.log(`[bench] starting ${n}-replica paxlog${withEtcd ? ` and ${n}-member etcd` : ""}`);
      if (endpoints) {
        drivers.push(new PaxlogDriver(endpoints, httpClient));
      } else {
        const px = await startPaxlogCluster(n, logDir);
        launched.push(px);
        const leader = await px.leader();
        const ordered = leaderLast(px.endpoints, leader === null ? null : leader - 1);
        const driver = new PaxlogDriver(ordered, httpClient);
        drivers.push(driver);
        serverPids.set(driver, px.pids);
        console.log(
          `[bench] paxlog up: ${ordered.join(" ")} (clients in this order; the last is the leader, replica ${leader})`,
        );
      }
      if (withEtcd) {
        const et = await startEtcdCluster(n, logDir, `etcd${n}-`);
        launched.push(et);
        const leader = await etcdLeaderIndex(et.endpoints);
        const ordered = leaderLast(et.endpoints, leader);
        const driver = ETCD_CLIENT_KINDS[etcdClient].driver(ordered);
        drivers.push(driver);
        serverPids.set(driver, et.pids);
        console.log(
          `[bench] etcd up: ${ordered.join(" ")} (clients in this order; ${leader === null ? "no leader known" : `the last is the leader, member ${leader + 1}`})`,
        );
      }
      for (const d of drivers) await preload(d, keys, value);
      if (primeMs > 0) {
        for (const driver of drivers) {
          if (interrupted) return 130;
          const primed = await runStep({
            driver,
            replicas: n,
            op: PRIMING_LOAD,
            clients: 64,
            keys,
            value,
            durationMs: primeMs,
            warmupMs: 0,
          });
          console.log(
            `[bench] primed ${driver.system} (${n}): ${primeMs / 1000}s of mixed load, ${primed.opsPerSec.toFixed(0)} ops/s, errors ${primed.errors}${primed.firstError ? ` (${primed.firstError})` : ""}`,
          );
        }
      }
      for (const op of steps) {
        for (const clients of clientCounts) {
          const windows = new Map<Driver, Window[]>(drivers.map((d) => [d, []]));
          const label = (driver: Driver) => `n=${n} ${driver.system} ${op.name} clients=${clients}`;
          for (let r = 0; r < rounds; r++) {
            // Who goes first alternates, so neither always follows the other's load.
            const order = r % 2 === 0 ? drivers : [...drivers].reverse();
            for (const driver of order) {
              if (interrupted) return 130;
              const window = await runWindow({
                driver,
                replicas: n,
                op,
                clients,
                keys,
                value,
                durationMs: windowMs,
                warmupMs,
                serverPids: serverPids.get(driver) ?? [],
                onProgress: (ms, ops, errors) => {
                  if (tty)
                    process.stderr.write(
                      `\r[bench] [${done + 1}/${total}] ${label(driver)} window ${r + 1}/${rounds} ${(ms / 1000).toFixed(0)}/${windowMs / 1000}s ${Math.round(ops / (ms / 1000))} ops/s errors ${errors}   `,
                    );
                },
              });
              windows.get(driver)!.push(window);
            }
          }
          if (tty) process.stderr.write("\r\x1b[K");
          for (const driver of drivers) {
            const result = summarize(windows.get(driver)!);
            rows.push(result);
            console.log(
              `[bench] [${++done}/${total}] ${label(driver)}: ${result.opsPerSec.toFixed(0)} ops/s p50 ${result.p50.toFixed(2)} p99 ${result.p99.toFixed(2)} p99.9 ${result.p999.toFixed(2)} ms, errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ""}, gen CPU ${result.genCpuPct}%${result.serverCpuPct === undefined ? "" : `, server CPU ${result.serverCpuPct}% (${result.serverUsPerOp ?? "-"} µs/op)`}${result.idleCpuPct === undefined ? "" : `, machine idle ${result.idleCpuPct}%`}`,
            );
          }
        }
      }
      for (const d of drivers) d.close();
      await Promise.all(launched.splice(0).map((l) => l.stop()));
    }
  } finally {
    await Promise.all(launched.splice(0).map((l) => l.stop()));
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }

  const meta = { date: date.toISOString(), machine: machineLine, settings };
  fs.writeFileSync(
    path.join(outDir, "results.json"),
    `${JSON.stringify({ ...meta, rows }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(outDir, "results.md"), markdown(rows, meta));
  fs.writeFileSync(path.join(outDir, "plot.svg"), svgPlot(rows));
  console.log(`\n${textTable(rows)}\n`);
  const cpuMax = Math.max(...rows.map((r) => r.genCpuPct));
  console.log(
    `[bench] load generator CPU: up to ${cpuMax}% of one core (${os.cpus().length} cores on this machine)`,
  );
  console.log(`[bench] wrote ${path.join(outDir, "results.json")}, results.md, plot.svg`);
  return 0;
}
