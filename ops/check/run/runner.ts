import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { History, HistoryEntry } from "../history";
import { serializeEntry } from "../history-jsonl";
import { checkHistory, type HistoryCheck } from "../index";
import { renderViolation } from "../report";
import { renderTimelineSvg } from "../timeline-svg";
import { findLostWrites, type LostWrite } from "./analysis";
import { ProcessCluster } from "./cluster";
import type { ClusterUnderTest } from "./cluster-under-test";
import { ComposeCluster, type PartitionMode } from "./compose-cluster";
import { ALL_FAULTS, type FaultKind, type FaultRecord, Nemesis } from "./nemesis";
import { Rng } from "./rng";
import { Client, Workload } from "./workload";

/**
 * `paxlog check`: a fault-injection run against a local process cluster
 * (etcd + N replicas, every replica→replica link through a proxy), checked
 * for linearizability, session guarantees, lost writes and equal digests.
 */

export interface CheckRunOptions {
  readonly nodes: number;
  readonly clients: number;
  /** Stop the workload after this long (ms). */
  readonly timeMs: number;
  /** ...or after this many ops (Infinity: no bound). */
  readonly maxOps: number;
  readonly seed: number;
  readonly keys: number;
  readonly faults: readonly FaultKind[];
  readonly intervalMs: number;
  readonly holdMs: number;
  readonly dir: string;
  readonly snapshotEvery: number;
  readonly retainTail: number;
  readonly leaseTtlSeconds: number;
  readonly requestTimeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly opDeadlineMs: number;
  readonly thinkMs: number;
  /** Per-partition time budget of the linearizability search. */
  readonly checkBudgetMs: number;
  readonly convergeTimeoutMs: number;
  readonly mislabelSequential: boolean;
  /** Node.js flags for every replica (the planted-bug builds: `--require` a mutation). */
  readonly replicaNodeArgs?: readonly string[];
  /** Test the compose cluster (docker-compose.yml) instead of a local process cluster. */
  readonly compose?: {
    /** The one running already: neither started nor torn down. */
    readonly running: boolean;
    /** Leave the cluster this run starts up at the end. */
    readonly keep: boolean;
    readonly partition: PartitionMode;
  } | null;
  readonly log: (line: string) => void;
}

export const CHECK_DEFAULTS = {
  nodes: 5,
  timeMs: 60_000,
  maxOps: Number.POSITIVE_INFINITY,
  keys: 5,
  faults: ALL_FAULTS,
  intervalMs: 4_000,
  holdMs: 2_500,
  snapshotEvery: 50,
  retainTail: 10,
  leaseTtlSeconds: 1,
  requestTimeoutMs: 2_000,
  attemptTimeoutMs: 3_000,
  opDeadlineMs: 10_000,
  thinkMs: 0,
  checkBudgetMs: 60_000,
  convergeTimeoutMs: 60_000,
  mislabelSequential: false,
} as const;

export interface DigestOutcome {
  readonly equal: boolean | null;
  readonly index: number | null;
  readonly perReplica: readonly { id: number; index: number | null; digest: string | null }[];
  readonly note: string;
}

export interface Recovery {
  readonly ms: number;
  readonly after: string;
}

export interface CheckRunReport {
  readonly dir: string;
  readonly seed: number;
  readonly nodes: number;
  /** Whether the cluster under test was the compose cluster. */
  readonly compose: boolean;
  readonly clients: number;
  readonly elapsedMs: number;
  readonly ops: {
    readonly invoked: number;
    readonly ok: number;
    readonly unknown: number;
    readonly failed: number;
    readonly retries: number;
    readonly unexpected409: number;
    readonly byKindOutcome: Record<string, number>;
  };
  readonly faults: readonly FaultRecord[];
  readonly faultsSkipped: number;
  readonly converged: boolean;
  readonly linearizability: string;
  readonly sequentialAnomalies: number;
  readonly lostWrites: readonly LostWrite[];
  readonly digests: DigestOutcome;
  readonly slowestRecovery: Recovery | null;
  readonly verdict: "ok" | "violation" | "unknown";
  readonly exitCode: 0 | 1 | 2;
  readonly problems: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/Z$/, "");
  return path.join("bench-results", `check-${stamp}`);
}

export async function runCheck(o: CheckRunOptions): Promise<CheckRunReport> {
  fs.mkdirSync(o.dir, { recursive: true });
  const log = o.log;
  const cluster: ClusterUnderTest = o.compose
    ? new ComposeCluster({
        snapshotEvery: o.snapshotEvery,
        retainTail: o.retainTail,
        leaseTtlSeconds: o.leaseTtlSeconds,
        requestTimeoutMs: o.requestTimeoutMs,
        dir: o.dir,
        ...o.compose,
        log,
      })
    : new ProcessCluster({
        nodes: o.nodes,
        snapshotEvery: o.snapshotEvery,
        retainTail: o.retainTail,
        leaseTtlSeconds: o.leaseTtlSeconds,
        requestTimeoutMs: o.requestTimeoutMs,
        dir: o.dir,
        nodeArgs: o.replicaNodeArgs ?? [],
      });
  const historyOut = fs.openSync(path.join(o.dir, "history.jsonl"), "w");
  const problems: string[] = [];
  try {
    log(`starting ${cluster.description}; run dir ${o.dir}`);
    await cluster.start();
    log(`cluster up: ${cluster.replicas.map((r) => r.url).join(" ")}`);
    // A cluster this run did not start may hold an earlier run's keys and
    // client ids, and the checker's model starts from empty keys: a fresh namespace.
    const namespace = o.compose?.running ? `check-${Date.now().toString(36)}/` : "";
    const keys = Array.from({ length: o.keys }, (_, i) => `${namespace}k${i}`);
    const t0 = performance.now();
    const workload = new Workload(
      {
        urls: cluster.replicas.map((r) => r.url),
        keys,
        txnKeys: keys.slice(-Math.min(2, keys.length)),
        clients: o.clients,
        seed: o.seed,
        attemptTimeoutMs: o.attemptTimeoutMs,
        opDeadlineMs: o.opDeadlineMs,
        thinkMs: o.thinkMs,
        mislabelSequential: o.mislabelSequential,
        clientIdPrefix: namespace,
      },
      t0,
      (e) => fs.writeSync(historyOut, `${serializeEntry(e)}\n`),
      o.maxOps,
    );
    const now = () => workload.now();
    const nemesis = new Nemesis(
      cluster,
      new Rng(o.seed),
      {
        faults: o.faults,
        intervalMs: o.intervalMs,
        holdMs: o.holdMs,
        readyTimeoutMs: 30_000,
      },
      now,
      log,
    );
    workload.start();
    if (o.faults.length > 0) nemesis.start();
    const started = Date.now();
    let lastProgress = started;
    while (Date.now() - started < o.timeMs && !workload.done) {
      await sleep(100);
      if (Date.now() - lastProgress >= 5_000) {
        lastProgress = Date.now();
        log(progressLine(workload, nemesis, now()));
      }
    }
    log(`workload bound reached at t=${(now() / 1000).toFixed(1)}s: stopping nemesis and clients`);
    await nemesis.stop();
    await workload.stop();
    const elapsedMs = now();
    log(progressLine(workload, nemesis, elapsedMs));

    // Quiesce: heal everything, restart anything down, wait for every replica to serve.
    await nemesis.healEverything();
    for (const e of nemesis.errors) problems.push(`a fault could not be made or undone: ${e}`);
    const convergeDeadline = Date.now() + o.convergeTimeoutMs;
    let converged = false;
    while (Date.now() < convergeDeadline) {
      if (await cluster.allServing()) {
        converged = true;
        break;
      }
      await sleep(200);
    }
    log(converged ? "healed: every replica serves and has left recovery" : "NOT converged");
    if (!converged) problems.push(`replicas did not all serve within ${o.convergeTimeoutMs} ms`);

    // Final linearizable reads of every key (part of the history).
    const finalClient = new Client(0, "final", new Rng(o.seed), workload.settings, {
      "lin-get": 1,
      "seq-get": 0,
      put: 0,
      delete: 0,
      cas: 0,
      incr: 0,
      append: 0,
      txn: 0,
    });
    const finalReads: HistoryEntry[] = [];
    for (const key of keys) {
      const e = await workload.runOp(finalClient, {
        kind: "get",
        key,
        consistency: "linearizable",
      });
      if (e) finalReads.push(e);
      if (e?.result.status !== "ok") problems.push(`final read of ${key} did not answer`);
    }
    const digests = await compareDigests(cluster, 30_000);
    log(`digests: ${digests.note}`);
    if (digests.equal === null) problems.push(`digests not compared: ${digests.note}`);
    await cluster.stop();

    const history = workload.history;
    log(`checking ${history.length} ops...`);
    const checkStarted = Date.now();
    const { check, files } = analyzeHistory(history, o.dir, o.checkBudgetMs);
    log(`checked in ${Date.now() - checkStarted} ms`);
    const lostWrites = findLostWrites(history, finalReads);
    const counts = { ok: 0, unknown: 0, failed: 0 };
    const byKindOutcome: Record<string, number> = {};
    for (const [k, n] of [...workload.byKindOutcome].sort()) {
      byKindOutcome[k] = n;
      counts[k.split("/")[1] as keyof typeof counts] += n;
    }
    const violation =
      check.linearizability.verdict === "violation" ||
      !check.sequential.ok ||
      lostWrites.length > 0 ||
      digests.equal === false;
    const unknown =
      !violation && (check.linearizability.verdict === "unknown" || problems.length > 0);
    const report: CheckRunReport = {
      dir: o.dir,
      seed: o.seed,
      nodes: o.nodes,
      compose: Boolean(o.compose),
      clients: o.clients,
      elapsedMs,
      ops: {
        invoked: workload.invoked + finalReads.length,
        ...counts,
        retries: workload.retries,
        unexpected409: workload.unexpected409,
        byKindOutcome,
      },
      faults: nemesis.faults,
      faultsSkipped: nemesis.skipped.length,
      converged,
      linearizability: check.report,
      sequentialAnomalies: check.sequential.anomalies.length,
      lostWrites,
      digests,
      slowestRecovery: slowestRecovery(nemesis.faults, workload.ackedWrites),
      verdict: violation ? "violation" : unknown ? "unknown" : "ok",
      exitCode: violation ? 1 : unknown ? 2 : 0,
      problems,
    };
    const text = renderRunReport(report, files);
    fs.writeFileSync(path.join(o.dir, "report.txt"), `${text}\n`);
    fs.writeFileSync(path.join(o.dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(
      path.join(o.dir, "faults.jsonl"),
      `${nemesis.faults.map((f) => JSON.stringify(f)).join("\n")}\n`,
    );
    return report;
  } finally {
    fs.closeSync(historyOut);
    await cluster.stop().catch(() => {});
  }
}

function progressLine(w: Workload, n: Nemesis, t: number): string {
  let ok = 0;
  let unknown = 0;
  for (const [k, v] of w.byKindOutcome) {
    if (k.endsWith("/ok")) ok += v;
    if (k.endsWith("/unknown")) unknown += v;
  }
  return (
    `t=${(t / 1000).toFixed(1)}s ops ${w.invoked} (ok ${ok}, unknown ${unknown}, ` +
    `retries ${w.retries}) faults ${n.faults.length}`
  );
}

/**
 * Waits until every replica applied the same index (sequential reads with
 * X-Paxlog-Min-Index = the highest applied index seen), then compares
 * `/v1/admin/digest`. Retries while indexes still move.
 */
async function compareDigests(
  cluster: ClusterUnderTest,
  timeoutMs: number,
): Promise<DigestOutcome> {
  const deadline = Date.now() + timeoutMs;
  let last: DigestOutcome = { equal: null, index: null, perReplica: [], note: "no answer" };
  while (Date.now() < deadline) {
    const views = await Promise.all(cluster.replicas.map((r) => cluster.view(r.id)));
    const target = Math.max(...views.map((v) => v?.appliedIndex ?? 0));
    await Promise.all(
      cluster.replicas.map((r) =>
        cluster.admin(
          r.id,
          "/v1/kv/k0?consistency=sequential",
          { "X-Paxlog-Min-Index": String(target) },
          5_000,
        ),
      ),
    );
    const answers = await Promise.all(
      cluster.replicas.map(async (r) => {
        const a = await cluster.admin<{ index: number; digest: string }>(r.id, "/v1/admin/digest");
        return {
          id: r.id,
          index: a?.status === 200 ? a.body.index : null,
          digest: a?.status === 200 ? a.body.digest : null,
        };
      }),
    );
    const indexes = new Set(answers.map((a) => a.index));
    if (answers.some((a) => a.index === null)) {
      last = { equal: null, index: null, perReplica: answers, note: "a replica did not answer" };
    } else if (indexes.size === 1) {
      const equal = new Set(answers.map((a) => a.digest)).size === 1;
      const index = answers[0]!.index;
      return {
        equal,
        index,
        perReplica: answers,
        note: equal
          ? `equal on all ${answers.length} replicas at index ${index} (${answers[0]!.digest!.slice(0, 16)}...)`
          : `DIFFERENT at index ${index}: ${answers.map((a) => `${a.id}=${a.digest!.slice(0, 12)}`).join(" ")}`,
      };
    } else {
      last = {
        equal: null,
        index: null,
        perReplica: answers,
        note: `indexes differ: ${answers.map((a) => `${a.id}@${a.index}`).join(" ")}`,
      };
    }
    await sleep(300);
  }
  return last;
}

/** The longest time from a fault's start or end to the next write that was sent after it and acked. */
export function slowestRecovery(
  faults: readonly FaultRecord[],
  writes: readonly { attemptStart: number; returnTime: number }[],
): Recovery | null {
  const sorted = [...writes].sort((a, b) => a.attemptStart - b.attemptStart);
  let worst: Recovery | null = null;
  const firstFrom = (t: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.attemptStart < t) lo = mid + 1;
      else hi = mid;
    }
    // The earliest return among writes sent at or after t.
    let best = Number.POSITIVE_INFINITY;
    for (let i = lo; i < sorted.length && sorted[i]!.attemptStart < best; i++) {
      best = Math.min(best, sorted[i]!.returnTime);
    }
    return best;
  };
  for (const f of faults) {
    const events: [number, string][] = [[f.start, "start"]];
    if (f.end !== null) events.push([f.end, "end"]);
    for (const [t, what] of events) {
      const back = firstFrom(t);
      if (!Number.isFinite(back)) continue;
      const ms = Math.round(back - t);
      if (worst === null || ms > worst.ms) {
        worst = {
          ms,
          after: `${what} of ${f.kind} [${f.targets.join(",")}] at t=${(t / 1000).toFixed(1)}s`,
        };
      }
    }
  }
  return worst;
}

/**
 * Checks a history and, on a violation, writes the failing partition's text
 * report and SVG timeline next to it. Shared by runs and `--history FILE`.
 */
export function analyzeHistory(
  history: History,
  dir: string | null,
  budgetMs: number,
): { check: HistoryCheck; files: string[] } {
  const check = checkHistory(history, { maxMillisPerPartition: budgetMs });
  const files: string[] = [];
  const v = check.linearizability.violation;
  if (v !== undefined && dir !== null) {
    fs.mkdirSync(dir, { recursive: true });
    const svg = path.join(dir, "violation.svg");
    fs.writeFileSync(
      svg,
      renderTimelineSvg(
        v.entries,
        new Set(v.longestPrefix),
        `not linearizable: key(s) ${v.keys.join(", ")}`,
      ),
    );
    const txt = path.join(dir, "violation.txt");
    fs.writeFileSync(txt, `${renderViolation(v)}\n`);
    files.push(txt, svg);
  }
  return { check, files };
}

export function renderRunReport(r: CheckRunReport, files: readonly string[] = []): string {
  const byKind = new Map<string, number>();
  for (const f of r.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  const lines = [
    `paxlog check: ${r.nodes} replicas${r.compose ? " (compose cluster)" : ""}, ${r.clients} clients, seed ${r.seed}, ` +
      `${(r.elapsedMs / 1000).toFixed(1)} s of workload; run dir ${r.dir}`,
    `ops: ${r.ops.invoked} invoked: ${r.ops.ok} ok, ${r.ops.unknown} unknown, ` +
      `${r.ops.failed} failed (definite 4xx, not in the history); ${r.ops.retries} retries` +
      (r.ops.unexpected409 > 0 ? `; ${r.ops.unexpected409} unexpected 409s` : ""),
    `  by kind/outcome: ${Object.entries(r.ops.byKindOutcome)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
    `faults: ${r.faults.length} injected (${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ") || "none"})` +
      (r.faultsSkipped > 0 ? `, ${r.faultsSkipped} rounds skipped` : ""),
    ...r.faults.map(
      (f) =>
        `  t=${(f.start / 1000).toFixed(1)}s..${f.end === null ? "?" : (f.end / 1000).toFixed(1)}s ` +
        `${f.kind} [${f.targets.join(",")}]${f.note ? ` ${f.note}` : ""}`,
    ),
    r.linearizability,
    `lost acknowledged writes: ${r.lostWrites.length}`,
    ...r.lostWrites.map((l) => `  ${l.message}`),
    `final digests: ${r.digests.note}`,
    `slowest recovery: ${r.slowestRecovery ? `${r.slowestRecovery.ms} ms to the next acked write after the ${r.slowestRecovery.after}` : "n/a"}`,
    ...r.problems.map((p) => `problem: ${p}`),
    ...files.map((f) => `failing partition written to ${f}`),
    `VERDICT: ${r.verdict.toUpperCase()} (exit ${r.exitCode})`,
  ];
  return lines.join("\n");
}
