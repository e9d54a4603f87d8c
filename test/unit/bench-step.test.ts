/** A bench step run as several windows adds up to the same figures as one window would. */
import test from "ava";
import { leaderLast } from "../../ops/bench/launch";
import { p50Spread, ratioSpread } from "../../ops/bench/report";
import { summarize, type Window } from "../../ops/bench/step";

const window = (latencies: number[], extra: Partial<Window> = {}): Window => ({
  system: "paxlog",
  replicas: 3,
  op: "put",
  clients: 4,
  latencies: Float64Array.from(latencies),
  errors: 0,
  seconds: 2,
  genCpuSeconds: 0.5,
  serverCpuSeconds: 1,
  idleCpuSeconds: 0.2,
  ...extra,
});

test("windows add up: counts, time, CPU and the percentiles of every latency together", (t) => {
  // 100 requests of 1..100 ms split unevenly over two windows, the slow ones in the second.
  const all = Array.from({ length: 100 }, (_, i) => i + 1);
  const result = summarize([
    window(all.slice(0, 30), { errors: 1, firstError: "boom" }),
    window(all.slice(30), { seconds: 3, genCpuSeconds: 1, serverCpuSeconds: 4 }),
  ]);
  t.is(result.ops, 100);
  t.is(result.errors, 1);
  t.is(result.firstError, "boom");
  t.is(result.seconds, 5);
  t.is(result.opsPerSec, 20);
  t.is(result.p50, 50);
  t.is(result.p99, 99);
  t.is(result.max, 100);
  t.is(result.genCpuPct, 30, "1.5 s of CPU over 5 s");
  t.is(result.serverCpuPct, 100, "5 s over 5 s");
  t.is(result.serverUsPerOp, 50_000, "5 s over 100 requests");
  t.is(result.idleCpuPct, 8, "0.4 s of idle CPU over 5 s");
  t.deepEqual(
    result.windowOpsPerSec,
    [15, 70 / 3].map((x) => Math.round(x * 10) / 10),
  );
});

test("ratio by window: the lowest and highest paxlog/etcd ratio of windows paired in run order", (t) => {
  const step = (system: string, perWindow: number[][]) =>
    summarize(perWindow.map((latencies) => window(latencies, { system, seconds: 1 })));
  // paxlog 4, 2, 3 ops/s against etcd 2, 2, 1: ratios 2, 1, 3 (not the ratio of the sums, 1.8).
  const paxlog = step("paxlog", [
    [1, 1, 1, 1],
    [1, 1],
    [1, 1, 1],
  ]);
  const etcd = step("etcd", [[1, 1], [1, 1], [1]]);
  t.deepEqual(ratioSpread(paxlog, etcd), { min: 1, max: 3 });
  t.is(ratioSpread(paxlog, undefined), undefined, "no etcd row: no ratio");
  t.is(ratioSpread(paxlog, step("etcd", [[1], []])), undefined, "an etcd window with no ops");
});

test("p50 by window: each window's median, paired in run order, and how often paxlog's was no higher", (t) => {
  const step = (system: string, perWindow: number[][]) =>
    summarize(perWindow.map((latencies) => window(latencies, { system, seconds: 1 })));
  const paxlog = step("paxlog", [
    [1, 2, 3],
    [4, 4, 9],
    [1, 1, 1],
  ]);
  const etcd = step("etcd", [[2, 4, 4], [2, 2, 2], [1]]);
  t.deepEqual(paxlog.windowP50, [2, 4, 1]);
  // Medians 2, 4, 1 against 4, 2, 1: ratios 0.5, 2 and 1, two of them at most 1.
  t.deepEqual(p50Spread(paxlog, etcd), { min: 0.5, max: 2, atMostEtcd: 2, windows: 3 });
  t.is(p50Spread(undefined, etcd), undefined, "no paxlog row: no ratio");
  t.is(p50Spread(step("paxlog", [[1], [], [1]]), etcd), undefined, "a paxlog window with no ops");
});

test("server CPU is reported only when every window could read it", (t) => {
  const result = summarize([window([1, 2]), window([3], { serverCpuSeconds: null })]);
  t.is(result.serverCpuPct, undefined);
  t.is(result.serverUsPerOp, undefined);
  t.is(result.idleCpuPct, 10, "idle CPU is the machine's, still read: 0.4 s over 4 s");
  t.is(result.ops, 3);
  t.is(summarize([window([1], { idleCpuSeconds: null })]).idleCpuPct, undefined);
});

test("one window summarizes as itself; none is an error", (t) => {
  const result = summarize([window([5, 1, 3])]);
  t.deepEqual([result.ops, result.p50, result.max, result.opsPerSec], [3, 3, 5, 1.5]);
  t.throws(() => summarize([]));
});

test("leaderLast moves the leader's endpoint to the end and keeps the others' order", (t) => {
  t.deepEqual(leaderLast(["a", "b", "c", "d", "e"], 1), ["a", "c", "d", "e", "b"]);
  t.deepEqual(leaderLast(["a", "b", "c"], 2), ["a", "b", "c"]);
  t.deepEqual(leaderLast(["a", "b", "c"], 0), ["b", "c", "a"]);
  // No leader known (or out of range): the order as given.
  t.deepEqual(leaderLast(["a", "b", "c"], null), ["a", "b", "c"]);
  t.deepEqual(leaderLast(["a", "b", "c"], 3), ["a", "b", "c"]);
});
