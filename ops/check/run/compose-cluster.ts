import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  compose,
  containerName,
  containers,
  docker,
  ETCD_CONTAINER,
  hostUrl,
  ROOT,
  run,
  script,
  until,
} from "../../docker/compose-cluster";
import { type ClusterUnderTest, ClusterViews } from "./cluster-under-test";
import type { FaultKind } from "./nemesis";

/**
 * The compose cluster (docker-compose.yml: etcd + paxlog-1..5 in containers)
 * as the cluster under test of `paxlog check --compose`. Faults are the
 * ops/docker scripts: crash.sh (docker kill) / recover.sh (docker start,
 * empty), pause.sh / resume.sh, partition.sh / heal.sh. Clients reach each
 * replica on its published port 127.0.0.1:8080+id.
 */

/** docker-compose.yml's replicas (membership is static: ops/docker/compose-file.sh). */
export const COMPOSE_REPLICAS = 5;
const IMAGES = ["paxlog-replica:latest", "paxlog-etcd:latest"];

/**
 * How a partition is made:
 * - "iptables" (partition.sh --keep-etcd): packets between the two sides are
 *   dropped; etcd and every REST port stay reachable, as with the proxies of
 *   the process cluster;
 * - "network" (partition.sh): the cut replicas leave the docker network, so
 *   they also lose etcd and their published port.
 */
export type PartitionMode = "iptables" | "network";
export const PARTITION_MODES: readonly PartitionMode[] = ["iptables", "network"];

/** Why `kind` cannot run on the compose cluster with `mode`, or null when it can. */
export function composeFaultProblem(kind: FaultKind, mode: PartitionMode): string | null {
  if (kind === "partition-leader" && mode === "network") {
    return (
      "partition-leader cuts the leader off from its peers while it keeps its etcd lease; " +
      "--compose-partition network disconnects it from etcd too (use iptables)"
    );
  }
  return null;
}

export interface ComposeClusterSettings {
  readonly snapshotEvery: number;
  readonly retainTail: number;
  readonly leaseTtlSeconds: number;
  readonly requestTimeoutMs: number;
  /** Container logs go here at stop(). */
  readonly dir: string;
  /** Test the compose cluster that runs already: not started, not torn down. */
  readonly running: boolean;
  /** Leave the cluster this run started up at the end. */
  readonly keep: boolean;
  readonly partition: PartitionMode;
  readonly log: (line: string) => void;
}

export class ComposeCluster extends ClusterViews implements ClusterUnderTest {
  readonly replicas = Array.from({ length: COMPOSE_REPLICAS }, (_, i) => ({
    id: i + 1,
    url: hostUrl(i + 1),
  }));
  private readonly killed = new Set<number>();
  private readonly paused = new Set<number>();
  /** Set once this run has called `up`: it owns the containers and takes them down. */
  private owned = false;
  private stopped = false;
  private startedAt = new Date();
  /**
   * Held from start() to stop(): a fetch the docker proxy accepted for a
   * container that is not ready holds no reference, and with no child
   * process (unlike the process cluster) the event loop could empty and the
   * command end mid-run.
   */
  private keepAlive: NodeJS.Timeout | null = null;
  private readonly exitHook = () => this.downNow();

  constructor(readonly settings: ComposeClusterSettings) {
    super();
  }

  get description(): string {
    const s = this.settings;
    const what = s.running ? "the running compose cluster" : "a fresh compose cluster";
    return `${what} (etcd + paxlog-1..${COMPOSE_REPLICAS}, partitions by ${s.partition})`;
  }

  async start(): Promise<void> {
    this.keepAlive = setInterval(() => {}, 60_000);
    this.startedAt = new Date();
    const found = await containers();
    if (this.settings.running) {
      const ids = found.filter((c) => c.state === "running").map((c) => c.id);
      if (ids.length !== COMPOSE_REPLICAS || !ids.every((id, i) => id === i + 1)) {
        throw new Error(
          `--compose-running needs paxlog-1..${COMPOSE_REPLICAS} running; found ` +
            `${found.map((c) => `${c.name} ${c.state}`).join(", ") || "none"} (docker-compose up -d)`,
        );
      }
    } else {
      if (found.length > 0) {
        throw new Error(
          `compose containers exist already (${found.map((c) => c.name).join(", ")}): ` +
            "test them with --compose-running, or remove them first (docker-compose down -v)",
        );
      }
      for (const image of IMAGES) {
        await docker(["image", "inspect", image]).catch(() => {
          throw new Error(`image ${image} is missing: run npm run docker:build first`);
        });
      }
      const s = this.settings;
      this.owned = true;
      if (!s.keep) process.on("exit", this.exitHook);
      await compose(["up", "-d"], 180_000, {
        ...process.env,
        PAXLOG_LEASE_TTL: String(s.leaseTtlSeconds),
        PAXLOG_SNAPSHOT_EVERY: String(s.snapshotEvery),
        PAXLOG_RETAIN_TAIL: String(s.retainTail),
        PAXLOG_REQUEST_TIMEOUT_MS: String(s.requestTimeoutMs),
      });
    }
    await until("every replica serves and has left recovery", 60_000, () => this.allServing());
  }

  /** Runs one ops/docker script; resolves with what it printed. */
  private script(name: string, ...args: string[]): Promise<string> {
    return run("bash", [script(name), ...args], 90_000);
  }

  async kill(id: number): Promise<void> {
    await this.script("crash.sh", String(id));
    this.killed.add(id);
    this.paused.delete(id);
  }

  async restart(id: number): Promise<void> {
    await this.script("recover.sh", String(id), "--no-wait");
    this.killed.delete(id);
  }

  async pause(id: number): Promise<void> {
    // The cgroup freezer can fail to freeze a busy container in time ("OCI
    // runtime pause failed: unable to freeze"; runc thaws it again): retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.script("pause.sh", String(id));
        break;
      } catch (error) {
        if (attempt >= 3 || !/unable to freeze/.test((error as Error).message)) throw error;
        this.settings.log(`docker pause paxlog-${id} failed to freeze (attempt ${attempt}); again`);
      }
    }
    this.paused.add(id);
  }

  async resume(id: number): Promise<void> {
    await this.script("resume.sh", String(id));
    this.paused.delete(id);
  }

  async partition(side: readonly number[]): Promise<void> {
    const keepEtcd = this.settings.partition === "iptables" ? ["--keep-etcd"] : [];
    await this.script("partition.sh", ...keepEtcd, ...side.map(String));
  }

  async healPartitions(): Promise<void> {
    await this.script("heal.sh");
  }

  /** Asks docker, not this run's bookkeeping, what is paused or stopped. */
  async restoreAll(): Promise<void> {
    await this.healPartitions();
    for (const c of await containers()) {
      if (c.state === "paused") await this.resume(c.id);
      else if (c.state !== "running") await this.restart(c.id);
    }
    this.killed.clear();
    this.paused.clear();
  }

  protected isUp(id: number): boolean {
    return !this.killed.has(id) && !this.paused.has(id);
  }

  /**
   * Saves every container's log in the run directory, then takes the cluster
   * down if this run started it (unless kept). A cluster left running is
   * first restored, so that no fault outlives the run.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      // start() refused the containers it found: not this run's to touch.
      if (!this.owned && !this.settings.running) return;
      await this.saveLogs();
      if (this.owned && !this.settings.keep) {
        await compose(["down", "-v", "--remove-orphans"], 120_000);
        process.off("exit", this.exitHook);
        this.settings.log("compose cluster taken down (docker-compose down -v)");
      } else {
        await this.restoreAll();
        this.settings.log("compose cluster left running (docker-compose down -v removes it)");
      }
    } finally {
      if (this.keepAlive) clearInterval(this.keepAlive);
    }
  }

  private async saveLogs(): Promise<void> {
    const since = this.settings.running ? ["--since", this.startedAt.toISOString()] : [];
    const names = [
      ...this.replicas.map((r) => [containerName(r.id), `replica-${r.id}.log`]),
      [ETCD_CONTAINER, "etcd.log"],
    ];
    await Promise.all(
      names.map(([name, file]) => {
        const out = fs.openSync(path.join(this.settings.dir, file!), "w");
        const child = spawn("docker", ["logs", ...since, name!], { stdio: ["ignore", out, out] });
        fs.closeSync(out);
        return new Promise<void>((resolve) => {
          child.once("error", () => resolve());
          child.once("exit", () => resolve());
        });
      }),
    );
  }

  /** On an exit mid-run (Ctrl-C): the cluster this run started must not outlive it. */
  private downNow(): void {
    if (this.stopped) return;
    const file = ["-f", `${ROOT}/docker-compose.yml`];
    const options = { stdio: "ignore", timeout: 60_000 } as const;
    const v1 = spawnSync("docker-compose", [...file, "down", "-v"], options);
    if (v1.error) spawnSync("docker", ["compose", ...file, "down", "-v"], options);
  }
}
