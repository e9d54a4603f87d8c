import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { parseArgs } from "node:util";
import { REPLICA_NODE_FLAGS } from "./replica-node-flags";
import { positiveInt, UsageError } from "./usage-error";

export const CLUSTER_HELP = `paxlog cluster up — a local cluster on loopback

Starts one etcd (the "etcd" binary on PATH, data in a temporary directory)
and N replicas as child processes. Replica i serves REST on base-port + i
(8081..8085 by default, the ports the compose cluster publishes) and gRPC on
grpc-base-port + i. Their logs stream to stdout with a [paxlog-i] prefix.
Ctrl-C or SIGTERM stops everything and removes the temporary directory.

Usage: paxlog cluster up [--nodes 5] [--base-port 8080] [--grpc-base-port 7080]
                         [--etcd-port 2379] [--cluster NAME] [--snapshot-every N]

Then, for example:
  curl -X PUT localhost:8081/v1/kv/hello -d '{"value":"world"}' -H 'content-type: application/json'
  curl localhost:8083/v1/kv/hello
  curl localhost:8082/v1/cluster`;

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
}

export async function clusterCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === undefined) {
    console.log(CLUSTER_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "up") throw new UsageError(`unknown cluster command "${sub}"`);
  const { values } = parseArgs({
    args: rest,
    options: {
      nodes: { type: "string", default: "5" },
      "base-port": { type: "string", default: "8080" },
      "grpc-base-port": { type: "string", default: "7080" },
      "etcd-port": { type: "string", default: "2379" },
      cluster: { type: "string", default: "local" },
      "snapshot-every": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(CLUSTER_HELP);
    return 0;
  }
  const nodes = positiveInt(values.nodes, "--nodes");
  if (nodes > 9) throw new UsageError("--nodes must be 1..9");
  const basePort = positiveInt(values["base-port"], "--base-port");
  const grpcBase = positiveInt(values["grpc-base-port"], "--grpc-base-port");
  const etcdPort = positiveInt(values["etcd-port"], "--etcd-port");

  const dir = fs.mkdtempSync(
    path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "paxlog-cluster-"),
  );
  const children: Child[] = [];
  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("[cluster] stopping replicas and etcd");
    for (const child of children) child.process.kill("SIGTERM");
    const deadline = setTimeout(() => {
      for (const child of children) child.process.kill("SIGKILL");
    }, 5_000);
    deadline.unref();
    void Promise.all(children.map((c) => exited(c.process))).then(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      console.log("[cluster] stopped");
      process.exit(code);
    });
  };
  process.on("SIGINT", () => stopAll(0));
  process.on("SIGTERM", () => stopAll(0));

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = spawn(
    "etcd",
    [
      "--name=paxlog-local",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPort + 1}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPort + 1}`,
      `--initial-cluster=paxlog-local=http://127.0.0.1:${etcdPort + 1}`,
      "--heartbeat-interval=50",
      "--election-timeout=500",
      "--log-level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  etcd.on("error", (error) => {
    console.error(
      `[cluster] cannot start etcd: ${error.message} (install it: apt-get install etcd-server)`,
    );
    stopAll(1);
  });
  children.push({ name: "etcd", process: etcd });
  prefixLines(etcd, "etcd");

  const peers = Array.from(
    { length: nodes },
    (_, i) => `${i + 1}=127.0.0.1:${grpcBase + i + 1}`,
  ).join(",");
  const cli = path.resolve(__dirname, "cli.js");
  for (let id = 1; id <= nodes; id++) {
    const args = [
      ...REPLICA_NODE_FLAGS,
      cli,
      "serve",
      "--id",
      String(id),
      "--peers",
      peers,
      "--rest-listen",
      `127.0.0.1:${basePort + id}`,
      "--etcd",
      etcdUrl,
      "--cluster",
      values.cluster,
    ];
    if (values["snapshot-every"]) args.push("--snapshot-every", values["snapshot-every"]);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    children.push({ name: `paxlog-${id}`, process: child });
    prefixLines(child, `paxlog-${id}`);
    child.on("exit", (code, signal) => {
      if (!stopping)
        console.log(`[cluster] paxlog-${id} exited (${signal ?? code}); the others keep running`);
    });
  }
  console.log(`[cluster] etcd ${etcdUrl}; ${nodes} replicas:`);
  for (let id = 1; id <= nodes; id++)
    console.log(`[cluster]   paxlog-${id}  http://127.0.0.1:${basePort + id}`);
  console.log("[cluster] Ctrl-C stops everything");
  return new Promise(() => {});
}

function prefixLines(child: ChildProcess, name: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline
      .createInterface({ input: stream })
      .on("line", (line) => console.log(`[${name}] ${line}`));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}
