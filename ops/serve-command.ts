import { parseArgs } from "node:util";
import { type NodeId, nodeId } from "../consensus";
import { REPLICA_DEFAULTS, type ReplicaConfig } from "../replica/config";
import { replicaContainer } from "../replica/container";
import { Replica } from "../replica/replica";
import { createLogger, errorFields, parseLogLevel } from "../transport/log";
import { RestApi } from "../transport/rest/server";
import { REPLICA_NODE_FLAGS } from "./replica-node-flags";
import { positiveInt, UsageError } from "./usage-error";

export const SERVE_HELP = `paxlog serve — run one replica

Every option can also come from the environment variable in brackets.

  --id N                 this replica's id, 1..n                      [PAXLOG_ID]
  --peers LIST           every replica's gRPC address, this one too:
                         "1=127.0.0.1:7081,2=127.0.0.1:7082,3=..."     [PAXLOG_PEERS]
  --grpc-listen H:P      where the gRPC server binds
                         (default: this replica's address in --peers)   [PAXLOG_GRPC_LISTEN]
  --rest-listen H:P      where the REST API binds (default 127.0.0.1:8080+id) [PAXLOG_REST_LISTEN]
  --rest-url URL         the REST URL others should use (default http://<rest-listen>) [PAXLOG_REST_URL]
  --etcd URLS            etcd client URLs, comma-separated
                         (default http://127.0.0.1:2379)                [PAXLOG_ETCD]
  --cluster NAME         cluster name: the etcd prefix /paxlog/NAME (default paxlog) [PAXLOG_CLUSTER]
  --lease-ttl S          membership lease TTL in seconds (default 2)    [PAXLOG_LEASE_TTL]
  --tick-ms MS           consensus tick (default 25)                    [PAXLOG_TICK_MS]
  --snapshot-every N     snapshot every N applied entries (default 10000) [PAXLOG_SNAPSHOT_EVERY]
  --retain-tail N        entries kept behind a snapshot for catch-up (default 1000) [PAXLOG_RETAIN_TAIL]
  --window N             instances in flight at once (default 32)       [PAXLOG_WINDOW]
  --request-timeout-ms MS  how long a request may wait for the log (default 5000) [PAXLOG_REQUEST_TIMEOUT_MS]
  --log-level L          debug | info | warn | error (default info)     [PAXLOG_LOG_LEVEL]
  -h, --help             this text

Logs are JSON lines on stderr. SIGTERM or SIGINT stops the replica cleanly
(it resigns from the election and revokes its etcd lease).

cluster up, bench, check and the Docker image start replicas as
"node ${REPLICA_NODE_FLAGS.join(" ")} dist/ops/cli.js serve ...": a larger
initial old generation spares the leader a major GC every 1.4 s or so under
load (see README, "Running replicas yourself"). Do the same when you start one.`;

export function parsePeers(raw: string): Map<NodeId, string> {
  const peers = new Map<NodeId, string>();
  for (const part of raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^(\d+)=(.+:\d+)$/.exec(part);
    if (!match) throw new UsageError(`--peers: "${part}" is not ID=HOST:PORT`);
    const id = nodeId(Number(match[1]));
    if (id < 1 || peers.has(id)) throw new UsageError(`--peers: bad or repeated id ${match[1]}`);
    peers.set(id, match[2]!);
  }
  if (peers.size === 0 || peers.size > 9) throw new UsageError("--peers must name 1..9 replicas");
  return peers;
}

export function serveConfig(argv: string[], env: NodeJS.ProcessEnv): ReplicaConfig | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      id: { type: "string" },
      peers: { type: "string" },
      "grpc-listen": { type: "string" },
      "rest-listen": { type: "string" },
      "rest-url": { type: "string" },
      etcd: { type: "string" },
      cluster: { type: "string" },
      "lease-ttl": { type: "string" },
      "tick-ms": { type: "string" },
      "snapshot-every": { type: "string" },
      "retain-tail": { type: "string" },
      window: { type: "string" },
      "request-timeout-ms": { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const pick = (flag: keyof typeof values, envName: string): string | undefined =>
    (values[flag] as string | undefined) ?? env[envName];
  const id = nodeId(positiveInt(pick("id", "PAXLOG_ID"), "--id"));
  const rawPeers = pick("peers", "PAXLOG_PEERS");
  if (!rawPeers) throw new UsageError("--peers is required");
  const peers = parsePeers(rawPeers);
  if (!peers.has(id)) throw new UsageError(`--peers does not name this replica (${id})`);
  const restListen = pick("rest-listen", "PAXLOG_REST_LISTEN") ?? `127.0.0.1:${8080 + id}`;
  const restMatch = /^(.+):(\d+)$/.exec(restListen);
  if (!restMatch) throw new UsageError(`--rest-listen must be HOST:PORT, got "${restListen}"`);
  const optionalInt = (flag: keyof typeof values, envName: string, fallback: number) => {
    const raw = pick(flag, envName);
    return raw === undefined ? fallback : positiveInt(raw, `--${flag}`);
  };
  const retainTail = pick("retain-tail", "PAXLOG_RETAIN_TAIL");
  return {
    nodeId: id,
    cluster: pick("cluster", "PAXLOG_CLUSTER") ?? REPLICA_DEFAULTS.cluster,
    peers,
    grpcListen: pick("grpc-listen", "PAXLOG_GRPC_LISTEN") ?? peers.get(id)!,
    restHost: restMatch[1]!,
    restPort: Number(restMatch[2]),
    restUrl: pick("rest-url", "PAXLOG_REST_URL") ?? `http://${restListen}`,
    etcdEndpoints: (pick("etcd", "PAXLOG_ETCD") ?? "http://127.0.0.1:2379")
      .split(",")
      .map((e) => e.trim()),
    leaseTtlSeconds: optionalInt("lease-ttl", "PAXLOG_LEASE_TTL", REPLICA_DEFAULTS.leaseTtlSeconds),
    tickMs: optionalInt("tick-ms", "PAXLOG_TICK_MS", REPLICA_DEFAULTS.tickMs),
    snapshotEvery: optionalInt(
      "snapshot-every",
      "PAXLOG_SNAPSHOT_EVERY",
      REPLICA_DEFAULTS.snapshotEvery,
    ),
    retainTail:
      retainTail === undefined
        ? REPLICA_DEFAULTS.retainTail
        : nonNegativeInt(retainTail, "--retain-tail"),
    requestTimeoutMs: optionalInt(
      "request-timeout-ms",
      "PAXLOG_REQUEST_TIMEOUT_MS",
      REPLICA_DEFAULTS.requestTimeoutMs,
    ),
    core: { ...REPLICA_DEFAULTS.core, window: optionalInt("window", "PAXLOG_WINDOW", 32) },
    domain: REPLICA_DEFAULTS.domain,
  };
}

function nonNegativeInt(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a non-negative integer, got "${raw}"`);
  return n;
}

export async function serveCommand(argv: string[]): Promise<number> {
  const config = serveConfig(argv, process.env);
  if (config === "help") {
    console.log(SERVE_HELP);
    return 0;
  }
  const level = parseLogLevel(
    argv.includes("--log-level")
      ? argv[argv.indexOf("--log-level") + 1]
      : process.env["PAXLOG_LOG_LEVEL"],
  );
  const log = createLogger({ node: config.nodeId, level });
  const c = replicaContainer(config, log);
  const replica = c.resolve(Replica);
  const rest = c.resolve(RestApi);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await rest.close().catch(() => {});
    await replica.stop().catch((error) => log.error("stop failed", { error: errorFields(error) }));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  const port = await rest.listen(config.restHost, config.restPort);
  log.info("REST API listening", { url: config.restUrl, port });
  await replica.start();
  log.info("replica serving", { grpc: config.grpcListen, cluster: config.cluster });
  return new Promise(() => {}); // runs until a signal stops it
}
