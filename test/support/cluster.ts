import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { type EtcdServer, startEtcd } from "./etcd";
import { freePort } from "./ports";
import { WaitTimeoutError, waitFor } from "./wait";

const CLI = path.resolve(__dirname, "../../ops/cli.js");

export interface ClusterOptions {
  readonly nodes: number;
  readonly snapshotEvery?: number;
  readonly retainTail?: number;
  readonly leaseTtlSeconds?: number;
  /** More `paxlog serve` flags for every replica (e.g. ["--request-timeout-ms", "1500"]). */
  readonly extraArgs?: readonly string[];
}

export interface ReplicaProcess {
  readonly id: number;
  readonly url: string;
  /** host:port of its gRPC peer server. */
  readonly grpcAddress: string;
  process: ChildProcess | null;
  log: string[];
}

/**
 * A real cluster for integration tests: one etcd and N `paxlog serve`
 * processes on loopback, each with its own free ports. Replicas can be
 * killed (-9), stopped, paused and restarted (empty, as after a crash).
 */
export class TestCluster {
  private constructor(
    readonly etcd: EtcdServer,
    readonly replicas: ReplicaProcess[],
    private readonly args: (id: number) => string[],
  ) {}

  static async start(options: ClusterOptions): Promise<TestCluster> {
    const etcd = await startEtcd();
    const grpc: number[] = [];
    const rest: number[] = [];
    for (let i = 0; i < options.nodes; i++) {
      grpc.push(await freePort());
      rest.push(await freePort());
    }
    const peers = grpc.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(",");
    const cluster = `t${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const args = (id: number) => [
      CLI,
      "serve",
      "--id",
      String(id),
      "--peers",
      peers,
      "--rest-listen",
      `127.0.0.1:${rest[id - 1]}`,
      "--etcd",
      etcd.endpoints.join(","),
      "--cluster",
      cluster,
      "--lease-ttl",
      String(options.leaseTtlSeconds ?? 1),
      "--snapshot-every",
      String(options.snapshotEvery ?? 10_000),
      "--retain-tail",
      String(options.retainTail ?? 100),
      "--log-level",
      "info",
      ...(options.extraArgs ?? []),
    ];
    const replicas = rest.map((port, i) => ({
      id: i + 1,
      url: `http://127.0.0.1:${port}`,
      grpcAddress: `127.0.0.1:${grpc[i]}`,
      process: null,
      log: [] as string[],
    }));
    const c = new TestCluster(etcd, replicas, args);
    for (const r of replicas) c.spawn(r);
    await c.waitHealthy(replicas.map((r) => r.id));
    return c;
  }

  replica(id: number): ReplicaProcess {
    const r = this.replicas[id - 1];
    if (!r) throw new Error(`no replica ${id}`);
    return r;
  }

  private spawn(r: ReplicaProcess): void {
    const child = spawn(process.execPath, this.args(r.id), { stdio: ["ignore", "ignore", "pipe"] });
    r.process = child;
    child.stderr?.on("data", (chunk: Buffer) => {
      r.log.push(...chunk.toString().split("\n").filter(Boolean));
      if (r.log.length > 2000) r.log.splice(0, r.log.length - 2000);
    });
    child.on("exit", () => {
      if (r.process === child) r.process = null;
    });
  }

  async waitHealthy(ids: number[], timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        for (const id of ids) {
          const res = await fetch(`${this.replica(id).url}/healthz`).catch(() => null);
          if (res?.status !== 200) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 50, message: `replicas ${ids} healthy` },
    );
  }

  /** kill -9: the replica loses everything it had in memory. */
  async kill(id: number): Promise<void> {
    const child = this.replica(id).process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  pause(id: number): void {
    this.replica(id).process?.kill("SIGSTOP");
  }

  resume(id: number): void {
    this.replica(id).process?.kill("SIGCONT");
  }

  /**
   * Starts a killed replica again: it comes back empty and must catch up.
   * Resolves once it has left recovery, so that taking another replica down
   * afterwards keeps f < n/2 (a recovering replica does not count in Phase 1).
   */
  async restart(id: number, timeoutMs = 20_000, waitRecovered = true): Promise<void> {
    const r = this.replica(id);
    if (r.process) throw new Error(`replica ${id} is still running`);
    this.spawn(r);
    await this.waitHealthy([id], timeoutMs);
    if (!waitRecovered) return;
    await waitFor(
      async () =>
        (await getJson(`${r.url}/v1/cluster`).catch(() => null))?.body?.recovering === false,
      { timeoutMs, intervalMs: 50, message: `replica ${id} leaves recovery` },
    ).catch((err: Error) => {
      // Whoever reads a failed run needs the replicas' side of the story.
      throw new WaitTimeoutError(`${err.message}\n${this.logs()}`, err);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (r) => {
        const child = r.process;
        if (!child) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGCONT");
        child.kill("SIGKILL");
        await exited;
      }),
    );
    await this.etcd.stop();
  }

  /** The leader named by the replicas' /v1/cluster views (waits until one is agreed). */
  async leader(timeoutMs = 15_000): Promise<number> {
    return waitFor(
      async () => {
        for (const r of this.replicas) {
          if (!r.process) continue;
          const view = await getJson(`${r.url}/v1/cluster`).catch(() => null);
          if (view?.body?.role === "leader") return view.body.nodeId as number;
        }
        return null;
      },
      { timeoutMs, intervalMs: 50, message: "a replica leads" },
    );
  }

  logs(): string {
    return this.replicas
      .map((r) => `--- replica ${r.id}\n${r.log.slice(-40).join("\n")}`)
      .join("\n");
  }
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked by the tests
export interface JsonAnswer<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export async function request(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    signal: AbortSignal.timeout(15_000),
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test sees the raw text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const getJson = (url: string, headers: Record<string, string> = {}) =>
  request("GET", url, undefined, headers);
