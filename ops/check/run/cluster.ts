import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { killOnExit } from "../../kill-on-exit";
import { freePort } from "../../ports";
import { REPLICA_NODE_FLAGS } from "../../replica-node-flags";
import { type ClusterUnderTest, ClusterViews } from "./cluster-under-test";
import { ProxyMesh } from "./proxy";

/**
 * The cluster a `paxlog check` run owns: one etcd and N `paxlog serve`
 * processes on loopback, every replica→replica gRPC link through a proxy of
 * the mesh. Everything is killed on stop() and, as a last resort, when this
 * process exits.
 */

export interface ClusterSettings {
  readonly nodes: number;
  readonly snapshotEvery: number;
  readonly retainTail: number;
  readonly leaseTtlSeconds: number;
  readonly requestTimeoutMs: number;
  /** Replica and etcd logs go here. */
  readonly dir: string;
  /** Extra `paxlog serve` flags. */
  readonly extraArgs?: readonly string[];
  /** Node.js flags for every replica process (e.g. `--require` of a planted-bug module). */
  readonly nodeArgs?: readonly string[];
}

export interface Replica {
  readonly id: number;
  readonly url: string;
  readonly grpcPort: number;
  process: ChildProcess | null;
  paused: boolean;
  starts: number;
}

const CLI = path.resolve(__dirname, "../../cli.js");

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function etcdHealthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { timeout: 500 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve(res.statusCode === 200 && body.includes('"true"')));
      res.on("error", () => resolve(false));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

export class ProcessCluster extends ClusterViews implements ClusterUnderTest {
  private etcd: ChildProcess | null = null;
  private etcdDir = "";
  etcdUrl = "";
  readonly clusterName = `check${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  readonly replicas: Replica[] = [];
  mesh!: ProxyMesh;
  private restPorts: number[] = [];

  constructor(readonly settings: ClusterSettings) {
    super();
  }

  get description(): string {
    return `etcd and ${this.settings.nodes} replicas on loopback (links through proxies)`;
  }

  async start(): Promise<void> {
    await this.startEtcd();
    const grpc: number[] = [];
    for (let i = 0; i < this.settings.nodes; i++) {
      grpc.push(await freePort());
      this.restPorts.push(await freePort());
    }
    this.mesh = await ProxyMesh.start(grpc);
    for (let i = 0; i < this.settings.nodes; i++) {
      this.replicas.push({
        id: i + 1,
        url: `http://127.0.0.1:${this.restPorts[i]}`,
        grpcPort: grpc[i]!,
        process: null,
        paused: false,
        starts: 0,
      });
    }
    for (const r of this.replicas) this.spawn(r);
    const deadline = Date.now() + 30_000;
    while (!(await this.allServing())) {
      if (Date.now() > deadline) throw new Error("replicas did not start serving within 30 s");
      await sleep(100);
    }
  }

  private async startEtcd(): Promise<void> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    this.etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    this.etcdDir = fs.mkdtempSync(
      path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "paxlog-check-etcd-"),
    );
    const log = fs.openSync(path.join(this.settings.dir, "etcd.log"), "a");
    const etcd = spawn(
      process.env["PAXLOG_ETCD_BIN"] ?? "etcd",
      [
        "--name=paxlog-check",
        `--data-dir=${this.etcdDir}`,
        `--listen-client-urls=${this.etcdUrl}`,
        `--advertise-client-urls=${this.etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=paxlog-check=${peerUrl}`,
        "--initial-cluster-state=new",
        "--heartbeat-interval=50",
        "--election-timeout=500",
        "--log-level=warn",
      ],
      { stdio: ["ignore", log, log] },
    );
    fs.closeSync(log);
    let failed: Error | null = null;
    etcd.on("error", (e) => {
      failed = e;
    });
    killOnExit(etcd);
    this.etcd = etcd;
    const deadline = Date.now() + 15_000;
    while (!(await etcdHealthy(this.etcdUrl))) {
      if (failed) throw new Error(`cannot start etcd: ${(failed as Error).message}`);
      if (etcd.exitCode !== null) throw new Error("etcd exited during start (see etcd.log)");
      if (Date.now() > deadline) throw new Error("etcd did not become healthy within 15 s");
      await sleep(50);
    }
  }

  replica(id: number): Replica {
    const r = this.replicas[id - 1];
    if (!r) throw new Error(`no replica ${id}`);
    return r;
  }

  private spawn(r: Replica): void {
    const s = this.settings;
    const args = [
      ...REPLICA_NODE_FLAGS,
      ...(s.nodeArgs ?? []),
      CLI,
      "serve",
      "--id",
      String(r.id),
      "--peers",
      this.mesh.peersFor(
        r.id,
        this.replicas.map((x) => x.grpcPort),
      ),
      "--grpc-listen",
      `127.0.0.1:${r.grpcPort}`,
      "--rest-listen",
      `127.0.0.1:${this.restPorts[r.id - 1]}`,
      "--etcd",
      this.etcdUrl,
      "--cluster",
      this.clusterName,
      "--lease-ttl",
      String(s.leaseTtlSeconds),
      "--snapshot-every",
      String(s.snapshotEvery),
      "--retain-tail",
      String(s.retainTail),
      "--request-timeout-ms",
      String(s.requestTimeoutMs),
      "--log-level",
      "info",
      ...(s.extraArgs ?? []),
    ];
    r.starts++;
    const log = fs.openSync(path.join(s.dir, `replica-${r.id}.log`), "a");
    fs.writeSync(log, `\n=== start #${r.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, args, { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    killOnExit(child);
    r.process = child;
    r.paused = false;
    child.on("exit", () => {
      if (r.process === child) {
        r.process = null;
        r.paused = false;
      }
    });
  }

  /** kill -9: the replica loses everything it had in memory. */
  async kill(id: number): Promise<void> {
    const r = this.replica(id);
    const child = r.process;
    if (!child) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** Starts a killed replica again, empty (it must recover). */
  restart(id: number): void {
    const r = this.replica(id);
    if (r.process) throw new Error(`replica ${id} is still running`);
    this.spawn(r);
  }

  pause(id: number): void {
    const r = this.replica(id);
    if (r.process) {
      r.process.kill("SIGSTOP");
      r.paused = true;
    }
  }

  resume(id: number): void {
    const r = this.replica(id);
    if (r.process) r.process.kill("SIGCONT");
    r.paused = false;
  }

  partition(side: readonly number[]): void {
    this.mesh.partition(side);
  }

  healPartitions(): void {
    this.mesh.healAll();
  }

  async restoreAll(): Promise<void> {
    this.mesh.healAll();
    for (const r of this.replicas) {
      if (r.paused) this.resume(r.id);
      if (!r.process) this.restart(r.id);
    }
  }

  protected isUp(id: number): boolean {
    const r = this.replica(id);
    return r.process !== null && !r.paused;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (r) => {
        const child = r.process;
        if (!child) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }),
    );
    await this.mesh?.close();
    const etcd = this.etcd;
    if (etcd && etcd.exitCode === null && etcd.signalCode === null) {
      const exited = new Promise((resolve) => etcd.once("exit", resolve));
      etcd.kill("SIGKILL");
      await exited;
    }
    if (this.etcdDir) fs.rmSync(this.etcdDir, { recursive: true, force: true });
  }
}

export interface ClusterViewLite {
  readonly nodeId: number;
  readonly leader: number | null;
  readonly role: string;
  readonly appliedIndex: number;
  readonly chosenIndex: number;
  readonly snapshotIndex: number;
  readonly logStartsAfter: number;
  readonly recovering: boolean;
  readonly members: readonly { id: number; status: string; learnedIndex: number | null }[];
}
