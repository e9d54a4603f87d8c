import type { Driver, Op } from "./drivers";
import { machineIdleSeconds, processCpuSeconds } from "./proc-cpu";

/** What a step issues: one operation, or a weighted mix ("mix"). */
export interface StepOp {
  readonly name: string;
  /** Cumulative weights: pick the first entry whose `upTo` exceeds a uniform [0,1) draw. */
  readonly choices: readonly { readonly op: Op; readonly upTo: number }[];
}

export function singleOp(op: Op): StepOp {
  return { name: op, choices: [{ op, upTo: 1 }] };
}

/** "put=50,get=50" → a weighted mix. */
export function parseMix(raw: string, valid: readonly Op[]): StepOp {
  const parts = raw.split(",").map((p) => p.trim().split("="));
  let total = 0;
  const weights: { op: Op; w: number }[] = [];
  for (const [name, w] of parts) {
    const weight = Number(w);
    if (!valid.includes(name as Op) || !Number.isFinite(weight) || weight <= 0)
      throw new Error(`--mix: "${name}=${w}" is not OP=WEIGHT with OP one of ${valid.join("|")}`);
    weights.push({ op: name as Op, w: weight });
    total += weight;
  }
  if (weights.length === 0) throw new Error("--mix is empty");
  let acc = 0;
  return {
    name: `mix(${weights.map((x) => `${x.op}=${x.w}`).join(",")})`,
    choices: weights.map((x) => {
      acc += x.w / total;
      return { op: x.op, upTo: acc };
    }),
  };
}

export interface StepResult {
  readonly system: string;
  readonly replicas: number;
  readonly op: string;
  readonly clients: number;
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  /**
   * Each window's throughput, in the order run. With --vs etcd, window k of
   * each system ran back to back with the other's window k, so their ratio
   * is a comparison at one moment (see ratioSpread in report.ts).
   */
  readonly windowOpsPerSec: readonly number[];
  /** Each window's median latency (ms), paired across systems like windowOpsPerSec. */
  readonly windowP50: readonly number[];
  /** Latencies in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** The load generator's CPU over the measured window, % of one core. */
  readonly genCpuPct: number;
  /**
   * The servers' CPU over the measured window (every replica or member
   * together, not paxlog's coordination etcd), % of one core; absent when
   * their processes are not ours to read (--endpoints).
   */
  readonly serverCpuPct?: number;
  /** Server CPU per operation, microseconds (serverCpuPct spread over the ops). */
  readonly serverUsPerOp?: number;
  /** The machine's idle CPU over the measured window, % of one core; absent without /proc/stat. */
  readonly idleCpuPct?: number;
  readonly firstError?: string;
}

export interface StepSpec {
  readonly driver: Driver;
  readonly replicas: number;
  readonly op: StepOp;
  readonly clients: number;
  readonly keys: number;
  readonly value: string;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** The server processes whose CPU the step reports (empty: not reported). */
  readonly serverPids?: readonly number[];
  /** Called about once a second with the measured window's progress. */
  readonly onProgress?: (elapsedMs: number, ops: number, errors: number) => void;
}

/** Sorted-sample percentile (nearest rank). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * One measured window's raw figures. A step may run as several windows
 * (rounds alternating with the other system, so that drift in the
 * machine's speed hits both alike); `summarize` adds them up.
 */
export interface Window {
  readonly system: string;
  readonly replicas: number;
  readonly op: string;
  readonly clients: number;
  /** Every counted request's latency, ms. */
  readonly latencies: Float64Array;
  readonly errors: number;
  readonly seconds: number;
  readonly genCpuSeconds: number;
  /** null when the servers' processes are not ours to read. */
  readonly serverCpuSeconds: number | null;
  /** The machine's idle CPU-seconds (all cores); null without /proc/stat. */
  readonly idleCpuSeconds: number | null;
  readonly firstError?: string;
}

/**
 * Closed loop: `clients` loops, each with one request in flight, client i on
 * endpoint i mod n. A warm-up is run and discarded, then latencies are
 * recorded for `durationMs`; requests in flight at the end still complete
 * but are not counted.
 */
export async function runWindow(spec: StepSpec): Promise<Window> {
  const { driver, clients, keys, value, op } = spec;
  let phase: "warmup" | "measure" | "done" = spec.warmupMs > 0 ? "warmup" : "measure";
  let samples = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const record = (ms: number) => {
    if (count === samples.length) {
      const bigger = new Float64Array(samples.length * 2);
      bigger.set(samples);
      samples = bigger;
    }
    samples[count++] = ms;
  };
  const pick = (): Op => {
    if (op.choices.length === 1) return op.choices[0]!.op;
    const r = Math.random();
    for (const c of op.choices) if (r < c.upTo) return c.op;
    return op.choices[op.choices.length - 1]!.op;
  };
  const loop = async (i: number) => {
    const target = driver.target(i);
    while (phase !== "done") {
      const o = pick();
      const key = `bench/${Math.floor(Math.random() * keys)}`;
      const counted = phase === "measure";
      const t0 = performance.now();
      try {
        await target.run(o, key, value);
        if (counted && phase === "measure") record(performance.now() - t0);
      } catch (error) {
        if (counted && phase === "measure") {
          errors++;
          firstError ??= (error as Error).message;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, i) => loop(i));
  if (spec.warmupMs > 0) {
    await new Promise((r) => setTimeout(r, spec.warmupMs));
    phase = "measure";
  }
  const cpu0 = process.cpuUsage();
  const serverPids = spec.serverPids ?? [];
  const server0 = serverPids.length > 0 ? processCpuSeconds(serverPids) : null;
  const idle0 = machineIdleSeconds();
  const t0 = performance.now();
  const ticker = setInterval(() => spec.onProgress?.(performance.now() - t0, count, errors), 1_000);
  await new Promise((r) => setTimeout(r, spec.durationMs));
  phase = "done";
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server1 = server0 === null ? null : processCpuSeconds(serverPids);
  const idle1 = idle0 === null ? null : machineIdleSeconds();
  clearInterval(ticker);
  const measured = count;
  await Promise.all(loops);
  return {
    system: driver.system,
    replicas: spec.replicas,
    op: op.name,
    clients,
    latencies: samples.slice(0, measured),
    errors,
    seconds,
    genCpuSeconds: (cpu.user + cpu.system) / 1e6,
    serverCpuSeconds: server0 === null || server1 === null ? null : server1 - server0,
    idleCpuSeconds: idle0 === null || idle1 === null ? null : idle1 - idle0,
    ...(firstError ? { firstError } : {}),
  };
}

/** One step's result from its windows (all of one system, operation and client count). */
export function summarize(windows: readonly Window[]): StepResult {
  const first = windows[0];
  if (!first) throw new Error("summarize: no windows");
  let ops = 0;
  let errors = 0;
  let seconds = 0;
  let genCpu = 0;
  let serverCpu: number | null = 0;
  let idleCpu: number | null = 0;
  for (const w of windows) {
    ops += w.latencies.length;
    errors += w.errors;
    seconds += w.seconds;
    genCpu += w.genCpuSeconds;
    serverCpu =
      serverCpu === null || w.serverCpuSeconds === null ? null : serverCpu + w.serverCpuSeconds;
    idleCpu = idleCpu === null || w.idleCpuSeconds === null ? null : idleCpu + w.idleCpuSeconds;
  }
  const sorted = new Float64Array(ops);
  let at = 0;
  for (const w of windows) {
    sorted.set(w.latencies, at);
    at += w.latencies.length;
  }
  sorted.sort();
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const firstError = windows.find((w) => w.firstError !== undefined)?.firstError;
  return {
    system: first.system,
    replicas: first.replicas,
    op: first.op,
    clients: first.clients,
    ops,
    errors,
    seconds: round(seconds),
    opsPerSec: seconds > 0 ? Math.round((ops / seconds) * 10) / 10 : 0,
    windowOpsPerSec: windows.map((w) =>
      w.seconds > 0 ? Math.round((w.latencies.length / w.seconds) * 10) / 10 : 0,
    ),
    windowP50: windows.map((w) => round(percentile(Float64Array.from(w.latencies).sort(), 0.5))),
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    p999: round(percentile(sorted, 0.999)),
    max: round(percentile(sorted, 1)),
    genCpuPct: seconds > 0 ? Math.round((genCpu / seconds) * 1000) / 10 : 0,
    ...(serverCpu !== null && seconds > 0
      ? {
          serverCpuPct: Math.round((serverCpu / seconds) * 1000) / 10,
          ...(ops > 0 ? { serverUsPerOp: Math.round((serverCpu / ops) * 1e7) / 10 } : {}),
        }
      : {}),
    ...(idleCpu !== null && seconds > 0
      ? { idleCpuPct: Math.round((idleCpu / seconds) * 1000) / 10 }
      : {}),
    ...(firstError ? { firstError } : {}),
  };
}

/** A step in one window. */
export async function runStep(spec: StepSpec): Promise<StepResult> {
  return summarize([await runWindow(spec)]);
}

/** Puts every key once (concurrency 32), so reads find values on both systems. */
export async function preload(driver: Driver, keys: number, value: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async (_, i) => {
      const t = driver.target(i);
      while (next < keys) {
        const k = next++;
        for (let attempt = 0; ; attempt++) {
          try {
            await t.run("put", `bench/${k}`, value);
            break;
          } catch (error) {
            if (attempt >= 20) throw error;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
    }),
  );
}
