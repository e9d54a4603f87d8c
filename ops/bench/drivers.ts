import http from "node:http";
import { Etcd3 } from "etcd3";
import { Pool } from "undici";
import { EtcdGrpcSession, putRequest, rangeRequest } from "./etcd-grpc";
import { RawHttpConnection } from "./raw-http";

/** The operations a benchmark step issues. */
export type Op = "put" | "get" | "sget";
export const OPS: readonly Op[] = ["put", "get", "sget"];

/** One connection-holding client of a system, bound to one endpoint. */
export interface Target {
  /** Resolves on success (a read of an absent key is a success), rejects on any error. */
  run(op: Op, key: string, value: string): Promise<void>;
}

export interface Driver {
  readonly system: string;
  /** The client for closed-loop client number `i` (round-robin over the endpoints). */
  target(i: number): Target;
  close(): void;
}

/**
 * How the paxlog driver speaks HTTP: a minimal keep-alive client of our own
 * (raw-http.ts) with one connection per replica shared by the clients on it
 * (`pipelined`) or one per client (`raw`), undici's connection pool, or
 * Node's http.request.
 */
export type HttpClient = "pipelined" | "raw" | "pool" | "agent";
export const HTTP_CLIENTS: readonly HttpClient[] = ["pipelined", "raw", "pool", "agent"];

/**
 * paxlog over its REST API. The default (`pipelined`) gives each replica one
 * keep-alive connection, shared by every closed-loop client on it, its
 * requests pipelined: the HTTP/1.1 counterpart of the one HTTP/2 session per
 * member that etcd's clients share. `raw` is the same minimal client with a
 * connection per client. That client costs the generator about a third of
 * the CPU per request of undici's `Pool.request`, which in turn costs about
 * two thirds of `http.request` with a keep-alive agent, and the CPU the
 * generator leaves is CPU the replicas get on a shared machine.
 */
export class PaxlogDriver implements Driver {
  readonly system = "paxlog";
  private readonly targets: Target[];
  private readonly closers: (() => void)[] = [];
  /** With `raw`, each closed-loop client owns its connection: one target per client number. */
  private readonly rawTargets = new Map<number, Target>();

  constructor(
    readonly endpoints: readonly string[],
    private readonly client: HttpClient = "pipelined",
  ) {
    // `raw` targets are made per client number in target().
    this.targets = (client === "raw" ? [] : endpoints).map((endpoint) => {
      const url = new URL(endpoint);
      if (client === "pipelined") return rawTarget(url, this.closers);
      if (client === "pool") {
        const pool = new Pool(url.origin);
        this.closers.push(() => void pool.destroy());
        return poolTarget(pool);
      }
      const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
      this.closers.push(() => agent.destroy());
      return agentTarget(agent, url.hostname, Number(url.port || 80));
    });
  }

  target(i: number): Target {
    if (this.client !== "raw") return this.targets[i % this.targets.length]!;
    let target = this.rawTargets.get(i);
    if (!target) {
      target = rawTarget(new URL(this.endpoints[i % this.endpoints.length]!), this.closers);
      this.rawTargets.set(i, target);
    }
    return target;
  }

  close(): void {
    for (const close of this.closers) close();
  }
}

/**
 * One connection: with `raw` the target of one closed-loop client, with
 * `pipelined` the target of every client on one replica.
 */
function rawTarget(url: URL, closers: (() => void)[]): Target {
  const connection = new RawHttpConnection(url.hostname, Number(url.port || 80));
  closers.push(() => connection.close());
  return {
    run: async (op, key, value) => {
      const status =
        op === "put"
          ? await connection.request(
              "PUT",
              pathOf(op, key),
              JSON.stringify({ value }),
              "application/json",
            )
          : await connection.request("GET", pathOf(op, key));
      checkStatus(op, status);
    },
  };
}

function pathOf(op: Op, key: string): string {
  const k = encodeURIComponent(key);
  return op === "sget" ? `/v1/kv/${k}?consistency=sequential` : `/v1/kv/${k}`;
}

/** A read of an absent key is a success; anything else but 200 is an error. */
function checkStatus(op: Op, status: number): void {
  if (!(status === 200 || (status === 404 && op !== "put"))) throw new Error(`HTTP ${status}`);
}

function poolTarget(pool: Pool): Target {
  return {
    run: async (op, key, value) => {
      const res = await pool.request(
        op === "put"
          ? {
              path: pathOf(op, key),
              method: "PUT",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ value }),
            }
          : { path: pathOf(op, key), method: "GET" },
      );
      await res.body.dump();
      checkStatus(op, res.statusCode);
    },
  };
}

function agentTarget(agent: http.Agent, host: string, port: number): Target {
  return {
    run: (op, key, value) =>
      new Promise<void>((resolve, reject) => {
        const body = op === "put" ? JSON.stringify({ value }) : undefined;
        const req = http.request(
          {
            agent,
            host,
            port,
            method: op === "put" ? "PUT" : "GET",
            path: pathOf(op, key),
            headers: body
              ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
              : {},
          },
          (res) => {
            const status = res.statusCode ?? 0;
            res.on("data", () => {});
            res.on("error", reject);
            res.on("end", () => {
              try {
                checkStatus(op, status);
                resolve();
              } catch (e) {
                reject(e);
              }
            });
          },
        );
        req.on("error", reject);
        req.end(body);
      }),
  };
}

/**
 * How the benchmark speaks to etcd: its gRPC API over node:http2 with
 * requests framed by hand (etcd-grpc.ts), its gRPC API through the `etcd3`
 * client, or its JSON gateway (grpc-gateway, HTTP/1.1 on the same client
 * port) through the same minimal client as paxlog's.
 */
export type EtcdClient = "grpc" | "gateway" | "etcd3";
export const ETCD_CLIENTS: readonly EtcdClient[] = ["grpc", "gateway", "etcd3"];

/**
 * etcd through its gRPC API, one HTTP/2 session per member shared by the
 * clients on it (etcd-grpc.ts). get = linearizable range, sget = serializable.
 */
export class EtcdGrpcDriver implements Driver {
  readonly system = "etcd";
  private readonly sessions: EtcdGrpcSession[];

  constructor(readonly endpoints: readonly string[]) {
    this.sessions = endpoints.map((endpoint) => new EtcdGrpcSession(endpoint));
  }

  target(i: number): Target {
    const session = this.sessions[i % this.sessions.length]!;
    return {
      run: (op, key, value) =>
        op === "put"
          ? session.call("Put", putRequest(Buffer.from(key), Buffer.from(value)))
          : session.call("Range", rangeRequest(Buffer.from(key), op === "sget")),
    };
  }

  close(): void {
    for (const session of this.sessions) session.close();
  }
}

/**
 * etcd through its gRPC API with the `etcd3` client: one client (one gRPC
 * channel) per member. get = linearizable range, sget = serializable range.
 */
export class EtcdDriver implements Driver {
  readonly system = "etcd";
  private readonly clients: Etcd3[];

  constructor(readonly endpoints: readonly string[]) {
    this.clients = endpoints.map((hosts) => new Etcd3({ hosts }));
  }

  target(i: number): Target {
    const c = this.clients[i % this.clients.length]!;
    return {
      run: async (op, key, value) => {
        if (op === "put") await c.put(key).value(value).exec();
        else if (op === "get") await c.get(key).exec();
        else await c.get(key).serializable(true).exec();
      },
    };
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

/**
 * etcd through its JSON gateway (`/v3/kv/put`, `/v3/kv/range`, keys and
 * values in base64), one keep-alive connection per closed-loop client. On a
 * 2-vCPU machine a grpc-js unary call costs the generator about 100 µs of
 * CPU (80 µs without etcd3's wrapper); this path costs about 20 µs, and the
 * CPU it leaves goes to etcd's members, which pay for the transcoding.
 */
export class EtcdGatewayDriver implements Driver {
  readonly system = "etcd";
  private readonly closers: (() => void)[] = [];
  private readonly targets = new Map<number, Target>();

  constructor(readonly endpoints: readonly string[]) {}

  target(i: number): Target {
    let target = this.targets.get(i);
    if (!target) {
      const url = new URL(this.endpoints[i % this.endpoints.length]!);
      const connection = new RawHttpConnection(url.hostname, Number(url.port || 80));
      this.closers.push(() => connection.close());
      target = {
        run: async (op, key, value) => {
          const k = Buffer.from(key).toString("base64");
          const [path, body] =
            op === "put"
              ? ["/v3/kv/put", `{"key":"${k}","value":"${Buffer.from(value).toString("base64")}"}`]
              : [
                  "/v3/kv/range",
                  op === "get" ? `{"key":"${k}"}` : `{"key":"${k}","serializable":true}`,
                ];
          const status = await connection.request("POST", path, body, "application/json");
          if (status !== 200) throw new Error(`etcd gateway HTTP ${status}`);
        },
      };
      this.targets.set(i, target);
    }
    return target;
  }

  close(): void {
    for (const close of this.closers) close();
  }
}
