import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { HistoryEntry, Op } from "../../ops/check/history";
import { serializeEntry } from "../../ops/check/history-jsonl";
import { findLostWrites, type LostWrite } from "../../ops/check/run/analysis";
import { type ClusterViewLite, ProcessCluster } from "../../ops/check/run/cluster";
import { Rng } from "../../ops/check/run/rng";
import { analyzeHistory } from "../../ops/check/run/runner";
import { Client, DEFAULT_MIX } from "../../ops/check/run/workload";
import { waitFor } from "./wait";

/**
 * Scripted fault scenarios on the `paxlog check` machinery: its process
 * cluster (etcd, replicas, a proxy per link), its clients' history recording
 * and its checker, but with a fixed sequence of faults and operations instead
 * of the random nemesis and closed-loop clients, so that one planted bug is
 * exposed every time.
 */

/** The planted-bug preload modules (test/mutations/), compiled. */
export const MUTATIONS_DIR = path.resolve(__dirname, "../mutations");

export function mutationArgs(name: string): string[] {
  return ["--require", path.join(MUTATIONS_DIR, `${name}.js`)];
}

/** A 3-replica check cluster; `nodeArgs` loads a mutation into every replica. */
export async function startScenarioCluster(
  dir: string,
  nodeArgs: readonly string[],
): Promise<ProcessCluster> {
  fs.mkdirSync(dir, { recursive: true });
  const cluster = new ProcessCluster({
    nodes: 3,
    snapshotEvery: 10_000,
    retainTail: 1_000,
    leaseTtlSeconds: 1,
    requestTimeoutMs: 1_000,
    dir,
    nodeArgs,
  });
  try {
    await cluster.start();
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
  return cluster;
}

/** The replica that says it leads (Phase 1 done), once one does. */
export async function waitForLeader(
  cluster: ProcessCluster,
  among: readonly number[],
  timeoutMs: number,
): Promise<number> {
  return waitFor(
    async () => {
      const views = await Promise.all(among.map((id) => cluster.view(id)));
      return views.find((v) => v?.role === "leader")?.nodeId ?? null;
    },
    { timeoutMs, intervalMs: 50, message: `a leader among ${among.join(",")}` },
  );
}

/** The replica's /v1/cluster view once it answers. */
export function waitForView(
  cluster: ProcessCluster,
  id: number,
  timeoutMs: number,
): Promise<ClusterViewLite> {
  return waitFor(() => cluster.view(id), {
    timeoutMs,
    intervalMs: 50,
    message: `replica ${id} to answer /v1/cluster`,
  });
}

/**
 * Records operations in the checker's history format, as the closed-loop
 * workload does (same clients, same outcome rules), but each sent to chosen
 * replicas: an answer is recorded with its result; 503s, timeouts and lost
 * connections are retried (same request id) on the given replicas in turn
 * until the deadline, then recorded as unknown.
 */
export class ScriptedHistory {
  readonly entries: HistoryEntry[] = [];
  private readonly t0 = performance.now();
  private nextId = 0;
  private readonly clients = new Map<string, Client>();
  private readonly out: number;

  constructor(
    readonly dir: string,
    private readonly attemptTimeoutMs = 2_000,
  ) {
    this.out = fs.openSync(path.join(dir, "history.jsonl"), "w");
  }

  private now(): number {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }

  private client(name: string): Client {
    let c = this.clients.get(name);
    if (c === undefined) {
      const settings = {
        urls: [],
        keys: [],
        txnKeys: [],
        clients: 0,
        seed: 1,
        attemptTimeoutMs: this.attemptTimeoutMs,
        opDeadlineMs: 0,
        thinkMs: 0,
      };
      c = new Client(this.clients.size + 1, name, new Rng(1), settings, DEFAULT_MIX);
      this.clients.set(name, c);
    }
    return c;
  }

  /** Runs `op` as client `clientName` against `urls` (in turn) for at most `deadlineMs`. */
  async run(
    clientName: string,
    urls: readonly string[],
    op: Op,
    deadlineMs: number,
  ): Promise<HistoryEntry> {
    const client = this.client(clientName);
    const invokeTime = this.now();
    const requestId = op.kind === "get" ? 0 : client.nextRequestId();
    const deadline = Date.now() + deadlineMs;
    let entry: HistoryEntry | null = null;
    for (let attempt = 0; entry === null && Date.now() < deadline; attempt++) {
      const url = urls[attempt % urls.length]!;
      const timeout = Math.max(1, Math.min(this.attemptTimeoutMs, deadline - Date.now()));
      const answer = await client.send(url, op, requestId, timeout);
      if (answer.kind === "failed") throw new Error(`${op.kind} got a definite 4xx from ${url}`);
      if (answer.kind === "ok") {
        client.observe(op, answer.result, answer.current);
        entry = {
          id: this.nextId++,
          clientId: clientName,
          invokeTime,
          returnTime: this.now(),
          op,
          result: answer.result,
        } as HistoryEntry;
      } else if (answer.kind === "stale") {
        break;
      } else {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    entry ??= {
      id: this.nextId++,
      clientId: clientName,
      invokeTime,
      returnTime: Number.POSITIVE_INFINITY,
      op,
      result: { status: "unknown" },
    } as HistoryEntry;
    this.entries.push(entry);
    fs.writeSync(this.out, `${serializeEntry(entry)}\n`);
    return entry;
  }

  close(): void {
    fs.closeSync(this.out);
  }
}

export interface ScenarioVerdict {
  readonly violation: boolean;
  readonly linearizability: "ok" | "violation" | "unknown";
  readonly lostWrites: readonly LostWrite[];
  readonly report: string;
}

/** The run's checks on a scripted history: linearizability, sessions and lost writes. */
export function judge(
  history: ScriptedHistory,
  finalReads: readonly HistoryEntry[],
): ScenarioVerdict {
  const { check } = analyzeHistory(history.entries, history.dir, 10_000);
  const lostWrites = findLostWrites(history.entries, finalReads);
  const violation =
    check.linearizability.verdict === "violation" || !check.sequential.ok || lostWrites.length > 0;
  const report = [
    check.report,
    `lost acknowledged writes: ${lostWrites.length}`,
    ...lostWrites.map((l) => `  ${l.message}`),
  ].join("\n");
  fs.writeFileSync(path.join(history.dir, "report.txt"), `${report}\n`);
  return { violation, linearizability: check.linearizability.verdict, lostWrites, report };
}

/** Every "MUTATION ACTIVE" line the replicas logged. */
export function mutationBanners(dir: string): string[] {
  const lines: string[] = [];
  for (const file of fs.readdirSync(dir)) {
    if (!file.startsWith("replica-")) continue;
    for (const line of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
      if (line.startsWith("MUTATION ACTIVE")) lines.push(`${file}: ${line}`);
    }
  }
  return lines;
}
