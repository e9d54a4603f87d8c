import http from "node:http";
import { Etcd3 } from "etcd3";

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
 * paxlog over its REST API with keep-alive `http.request` (one agent per
 * replica). Much cheaper per request than undici `fetch`; see `--http fetch`.
 */
export class PaxlogDriver implements Driver {
  readonly system = "paxlog";
  private readonly agents: http.Agent[];
  private readonly hosts: { host: string; port: number; origin: string }[];

  constructor(
    readonly endpoints: readonly string[],
    private readonly useFetch = false,
  ) {
    this.hosts = endpoints.map((e) => {
      const u = new URL(e);
      return { host: u.hostname, port: Number(u.port || 80), origin: u.origin };
    });
    this.agents = endpoints.map(() => new http.Agent({ keepAlive: true, maxSockets: Infinity }));
  }

  target(i: number): Target {
    const n = i % this.hosts.length;
    const h = this.hosts[n]!;
    const agent = this.agents[n]!;
    if (this.useFetch) return { run: (op, key, value) => viaFetch(h.origin, op, key, value) };
    return {
      run: (op, key, value) =>
        new Promise<void>((resolve, reject) => {
          const k = encodeURIComponent(key);
          const body = op === "put" ? JSON.stringify({ value }) : undefined;
          const req = http.request(
            {
              agent,
              host: h.host,
              port: h.port,
              method: op === "put" ? "PUT" : "GET",
              path: op === "sget" ? `/v1/kv/${k}?consistency=sequential` : `/v1/kv/${k}`,
              headers: body
                ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
                : {},
            },
            (res) => {
              const status = res.statusCode ?? 0;
              res.on("data", () => {});
              res.on("error", reject);
              res.on("end", () =>
                status === 200 || (status === 404 && op !== "put")
                  ? resolve()
                  : reject(new Error(`HTTP ${status}`)),
              );
            },
          );
          req.on("error", reject);
          req.end(body);
        }),
    };
  }

  close(): void {
    for (const a of this.agents) a.destroy();
  }
}

async function viaFetch(origin: string, op: Op, key: string, value: string): Promise<void> {
  const k = encodeURIComponent(key);
  const res = await fetch(
    op === "sget" ? `${origin}/v1/kv/${k}?consistency=sequential` : `${origin}/v1/kv/${k}`,
    op === "put"
      ? {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ value }),
        }
      : {},
  );
  await res.arrayBuffer();
  if (!(res.status === 200 || (res.status === 404 && op !== "put")))
    throw new Error(`HTTP ${res.status}`);
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
