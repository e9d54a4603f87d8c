import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Etcd3 } from "etcd3";
import { killOnExit } from "../kill-on-exit";
import { freePort } from "../ports";
import { REPLICA_NODE_FLAGS } from "../replica-node-flags";

/**
 * The clusters a `paxlog bench` run owns, on loopback: a paxlog cluster
 * (one coordination etcd plus N `paxlog serve` processes talking gRPC to each
 * other directly — unlike `paxlog check`'s cluster, no proxy mesh sits on the
 * replica links, so the benchmark does not pay for an extra hop) and an
 * N-member etcd cluster for comparison. Data directories live in /dev/shm.
 * Every child is SIGKILLed on stop() and, as a last resort, when this process
 * exits.
 */

const CLI = path.resolve(__dirname, "../cli.js");
/** Where data directories go: tmpfs, so neither system pays for a disk (PAXLOG_BENCH_TMPDIR moves it). */
const TMP_ROOT =
  process.env["PAXLOG_BENCH_TMPDIR"] ?? (fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir());

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function httpGet(url: string, timeoutMs = 1_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

async function etcdHealthy(url: string): Promise<boolean> {
  try {
    const { status, body } = await httpGet(`${url}/health`, 500);
    return status === 200 && body.includes('"true"');
  } catch {
    return false;
  }
}

/** Where in `endpoints` the etcd leader is (a member whose status names itself leader), or null. */
export async function etcdLeaderIndex(endpoints: readonly string[]): Promise<number | null> {
  const statuses = await Promise.all(
    endpoints.map(async (hosts) => {
      const client = new Etcd3({ hosts });
      try {
        return await client.maintenance.status();
      } catch {
        return null;
      } finally {
        client.close();
      }
    }),
  );
  const index = statuses.findIndex((s) => s !== null && s.header.member_id === s.leader);
  return index >= 0 ? index : null;
}

/**
 * The endpoints with the leader's moved to the end. Clients go round-robin
 * from the first, so a one-client step meets a follower in both systems,
 * the case of most clients of a cluster; which member leads is otherwise
 * chance, and the leader answers a write a round trip sooner.
 */
export function leaderLast<T>(endpoints: readonly T[], leader: number | null): T[] {
  if (leader === null || leader < 0 || leader >= endpoints.length) return [...endpoints];
  return [...endpoints.slice(0, leader), ...endpoints.slice(leader + 1), endpoints[leader]!];
}

function spawnLogged(cmd: string, args: string[], logFile: string): ChildProcess {
  const log = fs.openSync(logFile, "a");
  const child = spawn(cmd, args, { stdio: ["ignore", log, log] });
  fs.closeSync(log);
  child.on("error", () => {});
  killOnExit(child);
  return child;
}

async function killAll(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }),
  );
}

export interface Launched {
  /** Client endpoints: REST URLs for paxlog, etcd client URLs for etcd. */
  readonly endpoints: readonly string[];
  /** Child pids, members in order (paxlog: the replicas, not its etcd). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** An N-member etcd cluster on loopback, data in tmpfs; resolves once every member is healthy. */
export async function startEtcdCluster(
  members: number,
  logDir: string,
  name = "bench",
): Promise<Launched> {
  const etcdBin = process.env["PAXLOG_ETCD_BIN"] ?? "etcd";
  const dataRoot = fs.mkdtempSync(path.join(TMP_ROOT, `paxlog-bench-${name}-`));
  const ports: { client: number; peer: number }[] = [];
  for (let i = 0; i < members; i++)
    ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports
    .map((p, i) => `${name}${i + 1}=http://127.0.0.1:${p.peer}`)
    .join(",");
  const token = `${name}-${process.pid}-${Date.now()}`;
  const children = ports.map((p, i) =>
    spawnLogged(
      etcdBin,
      [
        `--name=${name}${i + 1}`,
        `--data-dir=${path.join(dataRoot, `m${i + 1}`)}`,
        `--listen-client-urls=http://127.0.0.1:${p.client}`,
        `--advertise-client-urls=http://127.0.0.1:${p.client}`,
        `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${token}`,
        "--initial-cluster-state=new",
        "--heartbeat-interval=50",
        "--election-timeout=500",
        "--log-level=warn",
      ],
      path.join(logDir, `${name}-${i + 1}.log`),
    ),
  );
  const endpoints = ports.map((p) => `http://127.0.0.1:${p.client}`);
  const stop = async () => {
    await killAll(children);
    fs.rmSync(dataRoot, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const healthy = await Promise.all(endpoints.map(etcdHealthy));
      if (healthy.every(Boolean)) break;
      const dead = children.find((c) => c.exitCode !== null);
      if (dead) throw new Error(`etcd exited during start (see ${logDir})`);
      if (Date.now() > deadline) throw new Error(`etcd (${name}) not healthy within 20 s`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoints, pids: children.map((c) => c.pid ?? 0), stop };
}

export interface PaxlogCluster extends Launched {
  /** The current leader's id (1-based), or null. */
  leader(): Promise<number | null>;
  /** Sends a signal to replica `id` (1-based): SIGKILL, SIGSTOP, SIGCONT... */
  signal(id: number, sig: NodeJS.Signals): Promise<void>;
  /** Starts replica `id` again, empty, with its original arguments (after it was killed). */
  restart(id: number): void;
  /** Replica `id`'s current pid. */
  pid(id: number): number;
}

/**
 * N `paxlog serve` replicas with a single-member coordination etcd; resolves
 * once every replica serves, has left recovery and a leader is known.
 */
export async function startPaxlogCluster(
  replicas: number,
  logDir: string,
  extraArgs: readonly string[] = [],
): Promise<PaxlogCluster> {
  const etcd = await startEtcdCluster(1, logDir, "coord");
  const grpc: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < replicas; i++) {
    grpc.push(await freePort());
    rest.push(await freePort());
  }
  const peers = grpc.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(",");
  const cluster = `bench${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  const replicaArgs = rest.map((port, i) => [
    ...REPLICA_NODE_FLAGS,
    ...(process.env["PAXLOG_BENCH_NODE_ARGS"]?.split(" ").filter(Boolean) ?? []),
    CLI,
    "serve",
    "--id",
    String(i + 1),
    "--peers",
    peers,
    "--rest-listen",
    `127.0.0.1:${port}`,
    "--etcd",
    etcd.endpoints[0]!,
    "--cluster",
    cluster,
    "--log-level",
    "warn",
    ...extraArgs,
  ]);
  const spawnReplica = (i: number) =>
    spawnLogged(process.execPath, replicaArgs[i]!, path.join(logDir, `paxlog-${i + 1}.log`));
  const children = rest.map((_, i) => spawnReplica(i));
  const endpoints = rest.map((p) => `http://127.0.0.1:${p}`);
  const stop = async () => {
    // SIGTERM first so a profiled replica (--cpu-prof) can write its profile.
    for (const c of children) c.kill("SIGTERM");
    const deadline = Date.now() + 3_000;
    while (children.some((c) => c.exitCode === null && c.signalCode === null)) {
      if (Date.now() > deadline) break;
      await sleep(50);
    }
    await killAll(children);
    await etcd.stop();
  };
  const view = async (url: string) => {
    try {
      const { status, body } = await httpGet(`${url}/v1/cluster`);
      return status === 200
        ? (JSON.parse(body) as { recovering: boolean; leader: number | null; role: string })
        : null;
    } catch {
      return null;
    }
  };
  const leader = async () => {
    const views = await Promise.all(endpoints.map(view));
    const idx = views.findIndex((v) => v?.role === "leader");
    return idx >= 0 ? idx + 1 : (views.find((v) => v?.leader != null)?.leader ?? null);
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const views = await Promise.all(endpoints.map(view));
      if (views.every((v) => v !== null && !v.recovering && v.leader != null)) break;
      if (children.some((c) => c.exitCode !== null))
        throw new Error(`a replica exited during start (see ${logDir})`);
      if (Date.now() > deadline) throw new Error("replicas did not start serving within 30 s");
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const signal = async (id: number, sig: NodeJS.Signals) => {
    const child = children[id - 1]!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (sig !== "SIGKILL") {
      child.kill(sig);
      return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(sig);
    await exited;
  };
  const restart = (id: number) => {
    const old = children[id - 1]!;
    if (old.exitCode === null && old.signalCode === null)
      throw new Error(`replica ${id} is still running`);
    children[id - 1] = spawnReplica(id - 1);
  };
  return {
    endpoints,
    pids: children.map((c) => c.pid ?? 0),
    stop,
    leader,
    signal,
    restart,
    pid: (id) => children[id - 1]?.pid ?? 0,
  };
}
