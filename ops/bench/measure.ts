import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { positiveInt, UsageError } from "../usage-error";
import { PaxlogDriver } from "./drivers";
import { type PaxlogCluster, startPaxlogCluster } from "./launch";
import { percentile, preload } from "./step";

/**
 * `paxlog measure` (issue 5): memory under sustained writes, catch-up of a
 * replica restarted empty, and rejoin of a replica isolated past compaction,
 * each on a fresh local 3-replica cluster (ops/bench/launch.ts) driven by
 * keep-alive HTTP writers (ops/bench/drivers.ts). A script, not a test.
 */

export const MEASURE_HELP = `paxlog measure — memory bound, catch-up and rejoin under load (issue 5)

Three phases, each on a fresh local 3-replica cluster (etcd + paxlog serve,
data in /dev/shm), --clients closed-loop keep-alive HTTP writers:
  heap      --writes N puts over --keys keys, then N more; each replica's
            heapUsed (after a forced full GC: replicas run with --expose-gc
            and a SIGUSR2 hook; minimum of samples over ~2 s), RSS,
            retainedEntries and acceptorInstances at 0, N and 2N writes
  catch-up  state of --catchup-keys × --catchup-value-bytes; a steady --rate
            writes/s; kill -9 a follower, restart it empty, time until it has
            left recovery and applied the leader's index; client write latency
            before vs during the catch-up
  rejoin    cluster with --rejoin-snapshot-every; SIGSTOP a follower until the
            leader compacted past it, SIGCONT, time until it applied the
            leader's index

  --writes N                  heap phase puts per step (default 1000000)
  --keys N                    heap phase key space (default 10000)
  --value-bytes N             heap phase value size (default 100)
  --snapshot-every N          replicas' snapshot interval (default 10000)
  --retain-tail N             replicas' retained tail (default 1000)
  --catchup-keys N            catch-up state keys (default 100000)
  --catchup-value-bytes N     catch-up value size (default 1000)
  --rate N                    writes/s during catch-up and rejoin (default 1000)
  --rejoin-snapshot-every N   snapshot interval in the rejoin phase (default 2000)
  --rejoin-retain-tail N      retained tail in the rejoin phase (default 500)
  --phases LIST               heap,catchup,rejoin (default all three)
  --clients N                 concurrent writers (default 64, 16 with --quick)
  --quick                     small sizes: 20000 writes, 5000 keys × 200 B, 16 clients
  --out DIR                   results go to DIR/measure-<timestamp>/ (default bench-results)
  -h, --help                  this text

Every wait is bounded; what a bound cut short is printed and listed under
"cutShort" in results.json (results.md has the tables). Exits 1 if any
bound cut a phase short (the figures of that phase are then incomplete).`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const mib = (b: number) => round(b / 2 ** 20, 1);

interface View {
  nodeId: number;
  role: string;
  leader: number | null;
  recovering: boolean;
  chosenIndex: number;
  appliedIndex: number;
  snapshotIndex: number;
  logStartsAfter: number;
  disposeBelow: number;
  retainedEntries: number;
  acceptorInstances: number;
  memory: { heapUsedBytes: number; rssBytes: number };
}

function getView(url: string, timeoutMs = 1_000): Promise<View | null> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/v1/cluster`, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(body) as View) : null);
        } catch {
          resolve(null);
        }
      });
      res.on("error", () => resolve(null));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(null));
  });
}

interface Latency {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * 64 (or `clients`) write loops over `endpoints`; optionally paced to `rate`
 * writes/s in total (a shared schedule; latency counts from the actual send),
 * optionally stopping after `limit` writes. `cut()` returns the latency of
 * the writes completed since the previous cut.
 */
class Load {
  private samples = new Float64Array(1 << 16);
  private count = 0;
  private errors = 0;
  private windowStart = performance.now();
  private running = true;
  private nextSlot = performance.now();
  issued = 0;
  done = 0;
  firstError: string | undefined;
  private readonly loops: Promise<void>[];
  private readonly driver: PaxlogDriver;

  constructor(
    endpoints: readonly string[],
    private readonly o: {
      clients: number;
      keys: number;
      value: string;
      rate?: number;
      limit?: number;
    },
  ) {
    // One connection per client, as when this command's figures in the README were taken.
    this.driver = new PaxlogDriver(endpoints, "raw");
    this.loops = Array.from({ length: o.clients }, (_, i) => this.loop(i));
  }

  private async loop(i: number): Promise<void> {
    const target = this.driver.target(i);
    while (this.running && (this.o.limit === undefined || this.issued < this.o.limit)) {
      if (this.o.rate) {
        const now = performance.now();
        const slot = Math.max(now, this.nextSlot);
        this.nextSlot = slot + 1000 / this.o.rate;
        if (slot > now) await sleep(slot - now);
        if (!this.running) break;
      }
      this.issued++;
      const key = `bench/${Math.floor(Math.random() * this.o.keys)}`;
      const t0 = performance.now();
      try {
        await target.run("put", key, this.o.value);
        this.record(performance.now() - t0);
        this.done++;
      } catch (error) {
        this.issued--;
        this.errors++;
        this.firstError ??= (error as Error).message;
        await sleep(10);
      }
    }
  }

  private record(ms: number): void {
    if (this.count === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.count++] = ms;
  }

  cut(): Latency {
    const now = performance.now();
    const seconds = (now - this.windowStart) / 1000;
    const sorted = this.samples.slice(0, this.count).sort();
    const result = {
      ops: this.count,
      errors: this.errors,
      seconds: round(seconds, 2),
      opsPerSec: round(this.count / Math.max(seconds, 1e-9)),
      p50: round(percentile(sorted, 0.5), 2),
      p99: round(percentile(sorted, 0.99), 2),
      max: round(percentile(sorted, 1), 2),
    };
    this.count = 0;
    this.errors = 0;
    this.windowStart = now;
    return result;
  }

  /** Resolves when `limit` writes completed, or false after `boundMs`. */
  async finished(boundMs: number, progress: (done: number) => void): Promise<boolean> {
    const all = Promise.all(this.loops).then(() => true);
    const deadline = Date.now() + boundMs;
    for (;;) {
      const r = await Promise.race([all, sleep(5_000).then(() => false)]);
      if (r) return true;
      progress(this.done);
      if (Date.now() > deadline) return false;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.driver.close();
  }
}

interface Config {
  writes: number;
  keys: number;
  valueBytes: number;
  snapshotEvery: number;
  retainTail: number;
  catchupKeys: number;
  catchupValueBytes: number;
  rate: number;
  rejoinSnapshotEvery: number;
  rejoinRetainTail: number;
  phases: string[];
  quick: boolean;
  clients: number;
  bounds: { heapStepMs: number; preloadMs: number; catchupMs: number; isolateMs: number };
}

interface HeapRow {
  writes: number;
  replica: number;
  role: string;
  heapUsedMiB: number;
  rssMiB: number;
  retainedEntries: number;
  acceptorInstances: number;
  appliedIndex: number;
  snapshotIndex: number;
}

const cutShort: string[] = [];
function cut(what: string): void {
  cutShort.push(what);
  console.log(`  CUT SHORT: ${what}`);
}

async function waitSettled(c: PaxlogCluster, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const views = await Promise.all(c.endpoints.map((e) => getView(e)));
    if (
      views.every((v) => v && !v.recovering) &&
      new Set(views.map((v) => v!.appliedIndex)).size === 1
    )
      return true;
    await sleep(200);
  }
  return false;
}

/**
 * Each replica's minimum heapUsed over ~2 s (8 samples, 4 with --quick) right after a forced
 * full GC (SIGUSR2, see gc-hook.ts), with its counters at the last sample.
 */
async function sampleHeap(c: PaxlogCluster, writes: number, samples = 8): Promise<HeapRow[]> {
  if (!(await waitSettled(c, 10_000))) cut(`heap @${writes}: replicas not settled within 10 s`);
  for (let id = 1; id <= c.endpoints.length; id++) await c.signal(id, "SIGUSR2");
  await sleep(500);
  const rows: HeapRow[] = [];
  const best = new Map<number, { heap: number; rss: number; v: View }>();
  for (let s = 0; s < samples; s++) {
    const views = await Promise.all(c.endpoints.map((e) => getView(e)));
    views.forEach((v, i) => {
      if (!v) return;
      const b = best.get(i + 1);
      best.set(i + 1, {
        heap: Math.min(b?.heap ?? Infinity, v.memory.heapUsedBytes),
        rss: Math.min(b?.rss ?? Infinity, v.memory.rssBytes),
        v,
      });
    });
    await sleep(250);
  }
  for (const [replica, b] of [...best].sort((x, y) => x[0] - y[0]))
    rows.push({
      writes,
      replica,
      role: b.v.role,
      heapUsedMiB: mib(b.heap),
      rssMiB: mib(b.rss),
      retainedEntries: b.v.retainedEntries,
      acceptorInstances: b.v.acceptorInstances,
      appliedIndex: b.v.appliedIndex,
      snapshotIndex: b.v.snapshotIndex,
    });
  return rows;
}

async function withCluster<T>(
  logDir: string,
  args: string[],
  body: (c: PaxlogCluster) => Promise<T>,
): Promise<T> {
  fs.mkdirSync(logDir, { recursive: true });
  const c = await startPaxlogCluster(3, logDir, args);
  try {
    return await body(c);
  } finally {
    await c.stop();
  }
}

async function follower(c: PaxlogCluster): Promise<{ leader: number; victim: number }> {
  for (let i = 0; i < 50; i++) {
    const leader = await c.leader();
    if (leader) return { leader, victim: leader === 3 ? 2 : 3 };
    await sleep(200);
  }
  throw new Error("no leader");
}

async function heapPhase(cfg: Config, dir: string) {
  console.log(`\n== heap: ${cfg.writes} + ${cfg.writes} puts over ${cfg.keys} keys`);
  return withCluster(
    path.join(dir, "logs-heap"),
    ["--snapshot-every", String(cfg.snapshotEvery), "--retain-tail", String(cfg.retainTail)],
    async (c) => {
      const samples = cfg.quick ? 4 : 8;
      const rows = await sampleHeap(c, 0, samples);
      const throughput: (Latency & { from: number; to: number })[] = [];
      const value = "x".repeat(cfg.valueBytes);
      let written = 0;
      for (let step = 1; step <= 2; step++) {
        const load = new Load(c.endpoints, {
          clients: cfg.clients,
          keys: cfg.keys,
          value,
          limit: cfg.writes,
        });
        let last = 0;
        let lastT = performance.now();
        const ok = await load.finished(cfg.bounds.heapStepMs, (done) => {
          const now = performance.now();
          console.log(
            `  ${written + done} writes, ${Math.round(((done - last) * 1000) / (now - lastT))}/s`,
          );
          last = done;
          lastT = now;
        });
        await load.stop();
        const lat = load.cut();
        if (!ok) cut(`heap step ${step}: ${lat.ops} of ${cfg.writes} writes within the time bound`);
        if (load.firstError) console.log(`  first write error: ${load.firstError}`);
        throughput.push({ from: written, to: written + lat.ops, ...lat });
        written += lat.ops;
        console.log(
          `  step ${step}: ${lat.ops} writes in ${lat.seconds} s = ${lat.opsPerSec}/s, p50 ${lat.p50} p99 ${lat.p99} max ${lat.max} ms, ${lat.errors} errors`,
        );
        rows.push(...(await sampleHeap(c, written, samples)));
      }
      return { rows, throughput };
    },
  );
}

async function catchupPhase(cfg: Config, dir: string) {
  const mb = mib(cfg.catchupKeys * cfg.catchupValueBytes);
  console.log(
    `\n== catch-up: ${cfg.catchupKeys} keys × ${cfg.catchupValueBytes} B (${mb} MiB of values), ${cfg.rate} writes/s`,
  );
  return withCluster(
    path.join(dir, "logs-catchup"),
    ["--snapshot-every", String(cfg.snapshotEvery), "--retain-tail", String(cfg.retainTail)],
    async (c) => {
      const value = "v".repeat(cfg.catchupValueBytes);
      const pre = new PaxlogDriver(c.endpoints, "raw");
      const tPre = performance.now();
      const loaded = await Promise.race([
        preload(pre, cfg.catchupKeys, value).then(() => true),
        sleep(cfg.bounds.preloadMs).then(() => false),
      ]);
      pre.close();
      const preloadSeconds = round((performance.now() - tPre) / 1000, 1);
      if (!loaded) cut(`catch-up preload not done within ${cfg.bounds.preloadMs / 1000} s`);
      console.log(`  preloaded in ${preloadSeconds} s`);
      const { leader, victim } = await follower(c);
      const others = c.endpoints.filter((_, i) => i + 1 !== victim);
      const load = new Load(others, {
        clients: cfg.clients,
        keys: cfg.catchupKeys,
        value,
        rate: cfg.rate,
      });
      await sleep(cfg.quick ? 2_000 : 5_000);
      const before = load.cut();
      const leaderBefore = await getView(c.endpoints[leader - 1]!);
      await c.signal(victim, "SIGKILL");
      await sleep(1_000);
      c.restart(victim);
      load.cut(); // the second between kill and restart
      const t0 = performance.now();
      let caughtUp: number | null = null;
      let leftRecovery: number | null = null;
      let served: number | null = null;
      let last: View | null = null;
      const leaderUrl = c.endpoints[leader - 1]!;
      const victimUrl = c.endpoints[victim - 1]!;
      while (performance.now() - t0 < cfg.bounds.catchupMs) {
        const lv = await getView(leaderUrl);
        const vv = await getView(victimUrl);
        const t = (performance.now() - t0) / 1000;
        if (vv) {
          last = vv;
          served ??= t;
          if (!vv.recovering) leftRecovery ??= t;
          if (lv && !vv.recovering && vv.appliedIndex >= lv.appliedIndex) {
            caughtUp = t;
            break;
          }
        }
        await sleep(100);
      }
      const during = load.cut();
      await sleep(cfg.quick ? 1_000 : 3_000);
      const after = load.cut();
      await load.stop();
      if (caughtUp === null)
        cut(
          `catch-up: replica ${victim} not caught up within ${cfg.bounds.catchupMs / 1000} s (applied ${last?.appliedIndex}, recovering ${last?.recovering})`,
        );
      const victimAfter = await getView(victimUrl);
      const result = {
        stateKeys: cfg.catchupKeys,
        valueBytes: cfg.catchupValueBytes,
        stateMiB: mb,
        preloadSeconds,
        leader,
        victim,
        leaderAppliedAtKill: leaderBefore?.appliedIndex ?? null,
        leaderHeapMiB: leaderBefore ? mib(leaderBefore.memory.heapUsedBytes) : null,
        servingAfterSeconds: served === null ? null : round(served, 2),
        leftRecoveryAfterSeconds: leftRecovery === null ? null : round(leftRecovery, 2),
        caughtUpSeconds: caughtUp === null ? null : round(caughtUp, 2),
        victimAfter: victimAfter && {
          appliedIndex: victimAfter.appliedIndex,
          snapshotIndex: victimAfter.snapshotIndex,
          heapUsedMiB: mib(victimAfter.memory.heapUsedBytes),
          retainedEntries: victimAfter.retainedEntries,
          acceptorInstances: victimAfter.acceptorInstances,
        },
        latency: { before, during, after },
        firstError: load.firstError ?? null,
      };
      console.log(
        `  replica ${victim} restarted empty: serving after ${result.servingAfterSeconds} s, out of recovery after ${result.leftRecoveryAfterSeconds} s, caught up after ${result.caughtUpSeconds} s`,
      );
      for (const [name, l] of Object.entries(result.latency))
        console.log(
          `  writes ${name}: ${l.opsPerSec}/s p50 ${l.p50} p99 ${l.p99} max ${l.max} ms, ${l.errors} errors`,
        );
      return result;
    },
  );
}

async function rejoinPhase(cfg: Config, dir: string) {
  console.log(
    `\n== rejoin: snapshot every ${cfg.rejoinSnapshotEvery}, tail ${cfg.rejoinRetainTail}, ${cfg.rate} writes/s`,
  );
  return withCluster(
    path.join(dir, "logs-rejoin"),
    [
      "--snapshot-every",
      String(cfg.rejoinSnapshotEvery),
      "--retain-tail",
      String(cfg.rejoinRetainTail),
    ],
    async (c) => {
      const { leader, victim } = await follower(c);
      const leaderUrl = c.endpoints[leader - 1]!;
      const victimUrl = c.endpoints[victim - 1]!;
      const others = c.endpoints.filter((_, i) => i + 1 !== victim);
      const load = new Load(others, {
        clients: cfg.clients,
        keys: cfg.keys,
        value: "r".repeat(cfg.valueBytes),
        rate: cfg.rate,
      });
      await sleep(1_000);
      const stoppedAt = (await getView(victimUrl))?.appliedIndex ?? 0;
      await c.signal(victim, "SIGSTOP");
      const tStop = performance.now();
      let compacted = false;
      let lv: View | null = null;
      while (performance.now() - tStop < cfg.bounds.isolateMs) {
        lv = await getView(leaderUrl);
        if (lv && lv.logStartsAfter > stoppedAt && lv.disposeBelow > stoppedAt) {
          compacted = true;
          break;
        }
        await sleep(200);
      }
      const stoppedSeconds = round((performance.now() - tStop) / 1000, 2);
      if (!compacted)
        cut(
          `rejoin: leader did not compact past ${stoppedAt} within ${cfg.bounds.isolateMs / 1000} s (logStartsAfter ${lv?.logStartsAfter}, disposeBelow ${lv?.disposeBelow})`,
        );
      const before = load.cut();
      await c.signal(victim, "SIGCONT");
      const t0 = performance.now();
      let rejoined: number | null = null;
      let last: View | null = null;
      while (performance.now() - t0 < cfg.bounds.catchupMs) {
        const l = await getView(leaderUrl);
        const v = await getView(victimUrl);
        if (v) last = v;
        if (l && v && !v.recovering && v.appliedIndex >= l.appliedIndex) {
          rejoined = (performance.now() - t0) / 1000;
          break;
        }
        await sleep(100);
      }
      const during = load.cut();
      await load.stop();
      if (rejoined === null)
        cut(
          `rejoin: replica ${victim} not caught up within ${cfg.bounds.catchupMs / 1000} s (applied ${last?.appliedIndex})`,
        );
      const result = {
        leader,
        victim,
        victimAppliedAtStop: stoppedAt,
        leaderLogStartsAfterAtCont: lv?.logStartsAfter ?? null,
        leaderAppliedAtCont: lv?.appliedIndex ?? null,
        compactedPastIt: compacted,
        stoppedSeconds,
        rejoinSeconds: rejoined === null ? null : round(rejoined, 2),
        victimSnapshotIndexAfter: last?.snapshotIndex ?? null,
        latency: { isolated: before, rejoining: during },
        firstError: load.firstError ?? null,
      };
      console.log(
        `  replica ${victim} stopped ${stoppedSeconds} s at index ${stoppedAt}; leader log starts after ${result.leaderLogStartsAfterAtCont}; caught up ${result.rejoinSeconds} s after SIGCONT`,
      );
      return result;
    },
  );
}

type Results = {
  machine: string;
  config: Config;
  heap?: Awaited<ReturnType<typeof heapPhase>>;
  catchup?: Awaited<ReturnType<typeof catchupPhase>>;
  rejoin?: Awaited<ReturnType<typeof rejoinPhase>>;
  cutShort: string[];
};

function table(head: string[], rows: (string | number | null)[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map((x) => (x === null ? "–" : String(x))).join(" | ")} |`),
  ].join("\n");
}

/** Client write latency per window of a phase, as a Markdown table. */
function latencyTable(windows: Record<string, Latency>): string {
  return table(
    ["window", "s", "writes/s", "p50 ms", "p99 ms", "max ms", "errors"],
    Object.entries(windows).map(([k, l]) => [
      k,
      l.seconds,
      l.opsPerSec,
      l.p50,
      l.p99,
      l.max,
      l.errors,
    ]),
  );
}

function markdown(r: Results): string {
  const out = [`# paxlog measure`, "", r.machine, "", "```", JSON.stringify(r.config), "```"];
  if (r.heap) {
    out.push(
      "",
      "## Heap",
      "",
      table(
        ["writes", "replica", "role", "heapUsed MiB", "RSS MiB", "retained", "acceptor", "applied"],
        r.heap.rows.map((x) => [
          x.writes,
          x.replica,
          x.role,
          x.heapUsedMiB,
          x.rssMiB,
          x.retainedEntries,
          x.acceptorInstances,
          x.appliedIndex,
        ]),
      ),
      "",
      table(
        ["writes", "ops/s", "p50 ms", "p99 ms", "max ms", "errors"],
        r.heap.throughput.map((x) => [
          `${x.from}–${x.to}`,
          x.opsPerSec,
          x.p50,
          x.p99,
          x.max,
          x.errors,
        ]),
      ),
    );
  }
  if (r.catchup) {
    const c = r.catchup;
    out.push(
      "",
      "## Catch-up of an empty replica",
      "",
      `${c.stateKeys} keys × ${c.valueBytes} B (${c.stateMiB} MiB of values), preloaded in ${c.preloadSeconds} s; replica ${c.victim} killed (-9) and restarted empty at leader index ${c.leaderAppliedAtKill}.`,
      "",
      table(
        ["serving after s", "left recovery after s", "caught up after s"],
        [[c.servingAfterSeconds, c.leftRecoveryAfterSeconds, c.caughtUpSeconds]],
      ),
      "",
      latencyTable(c.latency),
    );
  }
  if (r.rejoin) {
    const j = r.rejoin;
    out.push(
      "",
      "## Rejoin after isolation past compaction",
      "",
      table(
        ["stopped at", "stopped s", "leader log starts after", "compacted past", "rejoin s"],
        [
          [
            j.victimAppliedAtStop,
            j.stoppedSeconds,
            j.leaderLogStartsAfterAtCont,
            String(j.compactedPastIt),
            j.rejoinSeconds,
          ],
        ],
      ),
      "",
      latencyTable(j.latency),
    );
  }
  out.push(
    "",
    "## Cut short",
    "",
    ...(r.cutShort.length ? r.cutShort.map((x) => `- ${x}`) : ["nothing"]),
  );
  return `${out.join("\n")}\n`;
}

export async function measureCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      writes: { type: "string" },
      keys: { type: "string" },
      "value-bytes": { type: "string" },
      "snapshot-every": { type: "string", default: "10000" },
      "retain-tail": { type: "string", default: "1000" },
      "catchup-keys": { type: "string" },
      "catchup-value-bytes": { type: "string" },
      rate: { type: "string", default: "1000" },
      "rejoin-snapshot-every": { type: "string", default: "2000" },
      "rejoin-retain-tail": { type: "string", default: "500" },
      phases: { type: "string", default: "heap,catchup,rejoin" },
      quick: { type: "boolean", default: false },
      clients: { type: "string" },
      out: { type: "string", default: "bench-results" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(MEASURE_HELP);
    return 0;
  }
  const q = values.quick === true;
  const int = (raw: string | undefined, flag: string, dflt: number, quick: number) =>
    raw === undefined ? (q ? quick : dflt) : positiveInt(raw, flag);
  const retainTail = Number(values["retain-tail"]);
  const rejoinTail = Number(values["rejoin-retain-tail"]);
  if (!Number.isSafeInteger(retainTail) || retainTail < 0)
    throw new UsageError("--retain-tail must be an integer >= 0");
  if (!Number.isSafeInteger(rejoinTail) || rejoinTail < 0)
    throw new UsageError("--rejoin-retain-tail must be an integer >= 0");
  const phases = values.phases.split(",").map((p) => p.trim());
  for (const p of phases)
    if (!["heap", "catchup", "rejoin"].includes(p))
      throw new UsageError(`--phases: unknown phase "${p}" (heap, catchup, rejoin)`);
  const cfg: Config = {
    writes: int(values.writes, "--writes", 1_000_000, 20_000),
    keys: int(values.keys, "--keys", 10_000, 5_000),
    valueBytes: int(values["value-bytes"], "--value-bytes", 100, 100),
    snapshotEvery: positiveInt(values["snapshot-every"], "--snapshot-every"),
    retainTail,
    catchupKeys: int(values["catchup-keys"], "--catchup-keys", 100_000, 5_000),
    catchupValueBytes: int(values["catchup-value-bytes"], "--catchup-value-bytes", 1000, 200),
    rate: positiveInt(values.rate, "--rate"),
    rejoinSnapshotEvery: positiveInt(values["rejoin-snapshot-every"], "--rejoin-snapshot-every"),
    rejoinRetainTail: rejoinTail,
    phases,
    quick: q,
    clients: int(values.clients, "--clients", 64, 16),
    bounds: q
      ? { heapStepMs: 30_000, preloadMs: 30_000, catchupMs: 30_000, isolateMs: 20_000 }
      : { heapStepMs: 600_000, preloadMs: 600_000, catchupMs: 300_000, isolateMs: 120_000 },
  };
  // Replicas get a SIGUSR2 → gc() hook, so heap samples follow a full GC.
  process.env["PAXLOG_BENCH_NODE_ARGS"] = [
    process.env["PAXLOG_BENCH_NODE_ARGS"] ?? "",
    "--expose-gc",
    "--require",
    path.join(__dirname, "gc-hook.js"),
  ]
    .join(" ")
    .trim();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const dir = path.resolve(values.out, `measure-${stamp}`);
  fs.mkdirSync(dir, { recursive: true });
  const cpus = os.cpus();
  const machine = `${os.hostname()}: ${cpus.length} × ${cpus[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`paxlog measure → ${dir}\n${machine}`);
  cutShort.length = 0;
  const results: Results = { machine, config: cfg, cutShort };
  const save = () => {
    fs.writeFileSync(path.join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, "results.md"), markdown(results));
  };
  if (phases.includes("heap")) {
    results.heap = await heapPhase(cfg, dir);
    save();
  }
  if (phases.includes("catchup")) {
    results.catchup = await catchupPhase(cfg, dir);
    save();
  }
  if (phases.includes("rejoin")) {
    results.rejoin = await rejoinPhase(cfg, dir);
    save();
  }
  save();
  console.log(`\n${markdown(results)}`);
  console.log(`saved ${path.join(dir, "results.json")} and results.md`);
  if (cutShort.length === 0) return 0;
  console.error(`paxlog measure: ${cutShort.length} bound(s) cut a phase short (see above)`);
  return 1;
}
